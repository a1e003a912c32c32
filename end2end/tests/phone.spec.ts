// Every page fits a 390 px phone without sideways scrolling (tables scroll inside their own box),
// and the navigation folds into one "Menu" button that works with JavaScript on and off.
import { expect, test } from "@playwright/test";
import { ADMIN, createPlan, declare, isHydrated, ready, signIn } from "./helpers";

test.use({ viewport: { width: 390, height: 844 } });

test("every page fits a phone's width", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  await signIn(page, testInfo, ADMIN);
  const incident = new URL(await declare(page, testInfo, `Phone check (${testInfo.project.name}): a long title that has to wrap on a narrow screen`)).pathname;
  // A pasted dashboard link is one long word: it must wrap, not widen the page.
  const noted = await page.request.post("/api/add_note", {
    headers: { Accept: "application/json" },
    form: { number: incident.split("/").pop()!, occurred_at: "",
      body: "see https://grafana.example.com/d/abc123/checkout-latency?orgId=1&from=now-6h&to=now&var-cluster=eu-west-1&viewPanel=42" },
  });
  expect(noted.status(), await noted.text()).toBe(200);
  const plan = await createPlan(page, {
    name: `Phone drill (${testInfo.project.name})`, description: "", scene: "emergency", service: "checkout",
    scenario: "phone", rto_secs: 600, rpo_secs: null, enabled: true,
    steps: [{ id: "look", action: "manual_check", name: "Look at the dashboard and say whether checkout is green", timeout_secs: 600,
      pre_confirm: false, on_failure: "abort", weight: 20, phase: null, params: { instructions: { set: "Is it green?" } } }],
  });
  const started = await page.request.post("/api/start_run", {
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    data: { plan, answers: {}, incident: incident.split("/").pop() },
  });
  expect(started.status(), await started.text()).toBe(200);
  const run = await started.json();
  const paths = ["/", "/incidents", "/incidents/new", incident, `${incident}/postmortem`, `${incident}/postmortem/report`,
    "/plans", `/plans/${plan}`, "/runs", `/runs/${run}`, "/actions", "/board", "/admin/users", "/account"];
  if (isHydrated(testInfo)) paths.push(`/plans/${plan}/edit`, "/plans/new");
  const wide: string[] = [];
  for (const path of paths) {
    await page.goto(path);
    await ready(page, testInfo);
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    if (scroll > inner) wide.push(`${path}: ${scroll} px wide`);
  }
  expect(wide).toEqual([]);
});

test("the navigation folds into a Menu button on a phone", async ({ page }, testInfo) => {
  await signIn(page, testInfo, ADMIN);
  const menu = page.locator("summary", { hasText: "Menu" });
  await expect(menu).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
  await menu.click();
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav).toBeVisible();
  await nav.getByRole("link", { name: "Plans" }).click();
  await expect(page).toHaveURL(/\/plans$/);
  await expect(page.getByRole("heading", { name: "Plans", level: 1 })).toBeVisible();
  // The menu is closed again on the new page.
  await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
});
