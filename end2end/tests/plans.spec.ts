// Plans as they can be read today: stored through the API, shown as a preview with their steps,
// what is asked at run time and secrets masked.
import { expect, test } from "@playwright/test";
import { COMMANDER, VIEWER, freshPage, ready, signIn } from "./helpers";

test("a stored plan reads as a preview: steps, open parameters, masked secrets", async ({ page, browser }, testInfo) => {
  await signIn(page, testInfo, COMMANDER);
  const name = `Cache node loss (${testInfo.project.name})`;
  const res = await page.request.post("/api/create_plan", {
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    data: {
      plan: {
        name, description: "Kill a cache node and watch the cluster heal.", scene: "drill", service: "cache",
        scenario: "a node dies", rto_secs: 300, rpo_secs: null, enabled: true,
        steps: [
          { id: "kill", action: "webhook", name: "Kill a node", timeout_secs: 60, pre_confirm: true, on_failure: "abort", weight: 20, phase: null,
            params: { url: { set: "https://chaos.example/faults" }, payload: { set: "{}" }, expect_status: { set: "200" }, secret: { set: "hmac-key-123" } } },
          { id: "check", action: "http_request", name: "Cache answers", timeout_secs: 60, pre_confirm: false, on_failure: "continue", weight: 20, phase: null,
            params: { method: { set: "GET" }, url: "ask_at_run", expect_status: { set: "200" } } },
        ],
      },
    },
  });
  expect(res.status()).toBe(200);
  const number = await res.json();

  const viewer = await freshPage(browser, testInfo);
  await signIn(viewer, testInfo, VIEWER);
  await viewer.goto("/plans");
  await ready(viewer, testInfo);
  await viewer.getByRole("link", { name }).click();
  await expect(viewer.getByRole("heading", { name })).toBeVisible();
  await expect(viewer).toHaveURL(new RegExp(`/plans/${number}$`));
  const plan = viewer.getByRole("region", { name: "Plan" });
  await expect(plan).toContainText("Kill a node");
  await expect(plan).toContainText("a commander (or admin) confirms before it runs");
  await expect(plan).toContainText("asked when the plan runs");
  // A viewer reads the steps, not the values (URLs and headers carry addresses and tokens).
  await expect(plan).toContainText("shown to responders and up");
  await expect(plan).not.toContainText("chaos.example");
  await expect(plan).not.toContainText("hmac-key-123");
  await viewer.context().close();
  // Its author reads the values, the secret masked.
  await page.goto(`/plans/${number}`);
  await ready(page, testInfo);
  const own = page.getByRole("region", { name: "Plan" });
  await expect(own).toContainText("https://chaos.example/faults");
  await expect(own).toContainText("stored secret");
  await expect(own).not.toContainText("hmac-key-123");
});

test("a viewer is told composing needs the responder role instead of being handed the composer", async ({ page }, testInfo) => {
  await signIn(page, testInfo, VIEWER);
  await page.goto("/plans/new");
  await ready(page, testInfo);
  await expect(page.getByRole("note")).toContainText("Composing plans needs the responder role");
  await expect(page.getByRole("button", { name: "Create plan" })).toHaveCount(0);
});
