// The WASM client hydrates every page without errors (a mismatch or panic shows in the console).
import { expect, test } from "@playwright/test";
import { ADMIN, createPlan, declare, isHydrated, ready, signIn } from "./helpers";

test("pages hydrate without console errors", async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo), "only meaningful with JavaScript on");
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  await signIn(page, testInfo, ADMIN);
  for (const path of ["/", "/incidents", "/actions", "/actions?mine=1&overdue=1", "/admin/users", "/account"]) {
    await page.goto(path);
    await ready(page, testInfo);
  }
  // Client-side navigation after hydration reaches the other pages too.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Plans" }).click();
  await expect(page.getByRole("heading", { name: "Plans" })).toBeVisible();
  expect(errors).toEqual([]);
});

test("every main page hydrates cleanly on each of 30 cold loads", async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo), "only meaningful with JavaScript on");
  test.setTimeout(300_000);
  await signIn(page, testInfo, ADMIN);
  const incident = new URL(await declare(page, testInfo, "Hydration soak")).pathname;
  const plan = await createPlan(page, {
    name: "Soak drill", description: "", scene: "emergency", service: "checkout", scenario: "soak",
    rto_secs: 600, rpo_secs: null, enabled: true,
    steps: [{ id: "look", action: "manual_check", name: "Look at the dashboard", timeout_secs: 600, pre_confirm: false,
      on_failure: "abort", weight: 20, phase: null, params: { instructions: { set: "Is it green?" } } }],
  });
  const started = await page.request.post("/api/start_run", {
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    data: { plan, answers: {}, incident: incident.split("/").pop() },
  });
  expect(started.status(), await started.text()).toBe(200);
  const run = await started.json();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`${page.url()} pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${page.url()} console: ${m.text()}`);
  });
  const paths = [incident, `${incident}/postmortem`, `/plans/${plan}`, `/plans/${plan}/edit`, `/runs/${run}`, "/board", "/actions", "/admin/users"];
  for (const path of paths) {
    for (let i = 0; i < 30; i++) {
      await page.goto(path);
      await expect(page.locator("html[data-hydrated=true]")).toHaveCount(1);
    }
  }
  expect(errors).toEqual([]);
});
