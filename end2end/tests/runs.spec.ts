// Composing a plan in the step composer (drag and drop, keyboard), running it with a run-time
// parameter, answering a manual check and a gate, watching it finish live; running a plan
// without JavaScript; running an emergency plan from an incident onto its timeline.
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { COMMANDER, createPlan, declare, isHydrated, ready, signIn } from "./helpers";

/** A local service the plan's HTTP steps check (not Nightwatch itself). */
async function service(): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("all healthy");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/health`, close: () => server.close() };
}

const base = { description: "", service: "checkout", scenario: "primary lost", rto_secs: 600, rpo_secs: null, enabled: true };
const httpStep = (id: string, url: unknown) => ({
  id, action: "http_request", name: "Health answers", timeout_secs: 30, pre_confirm: false, on_failure: "abort", weight: 20, phase: null,
  params: { method: { set: "GET" }, url, expect_status: { set: "200" }, body_contains: { set: "healthy" } },
});

test("compose a plan by drag and drop and keyboard, run it, answer and confirm, watch it finish", async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo), "the composer is drag and drop: it needs JavaScript");
  const target = await service();
  await signIn(page, testInfo, COMMANDER);
  await page.goto("/plans");
  await ready(page, testInfo);
  await page.getByRole("link", { name: "New plan" }).click();
  await expect(page.getByRole("heading", { name: "New plan" })).toBeVisible();
  await ready(page, testInfo);

  const name = "Checkout failover drill";
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Target service").fill("checkout");
  await page.getByLabel("Scenario").fill("primary database lost");

  // Three actions dragged in from the palette.
  const palette = page.getByRole("region", { name: "Actions" });
  const end = page.getByRole("region", { name: "Drop here to add at the end" });
  const steps = page.getByRole("list", { name: "Plan steps" }).getByRole("listitem");
  for (const [i, action] of ["HTTP request with assertions", "Wait", "Manual check"].entries()) {
    await palette.getByRole("listitem", { name: action, exact: true }).dragTo(end);
    await expect(steps).toHaveCount(i + 1);
  }
  await expect(steps.nth(0)).toHaveAccessibleName("Step 1: HTTP request with assertions");
  // The newest step is open in the side panel; a manual check needs its instructions.
  await expect(page.getByRole("complementary", { name: "Step settings" })).toContainText("What to check is required (or ask for it at run time).");

  // Reorder by drag: the manual check onto the first step goes before it.
  await steps.nth(0).scrollIntoViewIfNeeded(); // both ends of the drag in view
  await steps.nth(2).dragTo(steps.nth(0));
  await expect(steps.nth(0)).toHaveAccessibleName("Step 1: Manual check");
  await expect(steps.nth(1)).toHaveAccessibleName("Step 2: HTTP request with assertions");
  // Reorder by keyboard: Wait moves up, and focus follows it.
  await page.getByRole("button", { name: "Move Wait up" }).focus();
  await page.keyboard.press("Enter");
  await expect(steps.nth(1)).toHaveAccessibleName("Step 2: Wait");
  await expect(page.getByRole("button", { name: "Move Wait up" })).toBeFocused();

  // Parameters: the check's instructions, a gate and a short wait, the URL left open.
  const panel = page.getByRole("complementary", { name: "Step settings" });
  await page.getByRole("button", { name: "Edit Manual check" }).click();
  await panel.getByLabel("What to check (required)").fill("The checkout dashboard is green.");
  await page.getByRole("button", { name: "Edit Wait" }).click();
  await panel.getByLabel("How long (required)").fill("1s");
  await panel.getByLabel("A commander confirms before it runs").check();
  await page.getByRole("button", { name: "Edit HTTP request with assertions" }).click();
  // A new HTTP step has no URL: the panel says so beside the field, and the step is flagged.
  await expect(panel).toContainText("URL is required (or ask for it at run time).");
  await expect(steps.nth(2)).toContainText("1 problem");
  await panel.getByLabel("Ask for “URL” at run time").check();
  await expect(panel.getByLabel("URL (required)")).toBeDisabled();
  await expect(panel).not.toContainText("URL is required");

  // Leaving with unsaved changes asks first; staying keeps everything.
  page.once("dialog", (dialog) => dialog.dismiss());
  await page.getByRole("link", { name: "Plans", exact: true }).click();
  await expect(page).toHaveURL(/\/plans\/new$/);
  await expect(steps).toHaveCount(3);

  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByRole("region", { name: "Preview" })).toContainText("asked when the plan runs");
  await page.getByRole("button", { name: "Create plan" }).click();
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();
  const planUrl = page.url();
  expect(planUrl).toMatch(/\/plans\/\d+$/);
  await expect(page.getByRole("region", { name: "Plan" })).toContainText("a commander (or admin) confirms before it runs");

  // Run now: the open URL is asked for this run.
  await ready(page, testInfo);
  await page.getByLabel("URL — HTTP request with assertions (step 3)").fill(target.url);
  await page.getByRole("button", { name: "Run now", exact: true }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await ready(page, testInfo);
  const runSteps = page.getByRole("region", { name: "Steps" });

  // The manual check waits for a verdict, then the gate for a commander.
  const check = runSteps.getByRole("listitem", { name: "1. Manual check" });
  await expect(check).toContainText("Do the check, then mark it passed or failed.");
  await check.getByLabel("Comment").fill("Dashboards green, p99 normal");
  await check.getByRole("button", { name: "Passed" }).click();
  const gate = runSteps.getByRole("listitem", { name: "2. Wait" });
  await expect(gate).toContainText("This step waits for a commander to confirm it before it runs.");
  await expect(check).toContainText("Marked passed by e2e-commander: Dashboards green, p99 normal");
  await gate.getByRole("button", { name: "Confirm and run" }).click();

  // Live: the run finishes without a reload.
  await expect(page.getByRole("status", { name: "Run status" })).toHaveText("Passed", { timeout: 15_000 });
  await expect(runSteps.getByRole("listitem", { name: "3. HTTP request with assertions" })).toContainText("200 OK");
  const runUrl = page.url();
  const runNumber = runUrl.split("/").pop();

  await page.goto(planUrl);
  await ready(page, testInfo);
  const history = page.getByRole("region", { name: "Run history" });
  await expect(history.getByRole("row", { name: new RegExp(`Run #${runNumber}`) })).toContainText("Passed");
  target.close();
});

test("a plan runs from its page without JavaScript: a refused answer comes back beside its field", async ({ page }, testInfo) => {
  const target = await service();
  await signIn(page, testInfo, COMMANDER);
  const name = `Cache warm-up (${testInfo.project.name})`;
  const number = await createPlan(page, {
    ...base, name, scene: "drill",
    steps: [
      { id: "look", action: "manual_check", name: "Look at the cache hit rate", timeout_secs: 300, pre_confirm: false, on_failure: "abort", weight: 20, phase: null,
        params: { instructions: { set: "Hit rate above 90%" } } },
      httpStep("health", "ask_at_run"),
    ],
  });
  await page.goto(`/plans/${number}`);
  await ready(page, testInfo);
  const field = page.getByLabel("URL — Health answers (step 2)");
  await field.fill("not a url");
  await page.getByRole("button", { name: "Run now", exact: true }).click();
  await expect(page.getByRole("region", { name: "Run now" })).toContainText("A URL starting with http:// or https://.");
  await expect(field).toHaveValue("not a url");
  await field.fill(target.url);
  await page.getByRole("button", { name: "Run now", exact: true }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await ready(page, testInfo);

  const check = page.getByRole("listitem", { name: "1. Look at the cache hit rate" });
  await expect(check).toContainText("Do the check, then mark it passed or failed.");
  await check.getByRole("button", { name: "Failed" }).click();
  await expect(check).toContainText("Say what you saw: a failed check needs a comment.");
  await check.getByLabel("Comment").fill("Hit rate 97%");
  await check.getByRole("button", { name: "Passed" }).click();
  // Without JavaScript the page refreshes itself while the run is unfinished.
  await expect(page.getByRole("status", { name: "Run status" })).toHaveText("Passed", { timeout: 15_000 });
  await expect(page.getByRole("listitem", { name: "2. Health answers" })).toContainText("all healthy");
  target.close();
});

test("an emergency plan run from an incident writes each step on the incident's timeline", async ({ page }, testInfo) => {
  const target = await service();
  await signIn(page, testInfo, COMMANDER);
  const name = `Restart checkout (${testInfo.project.name})`;
  await createPlan(page, { ...base, name, scene: "emergency", steps: [httpStep("health", { set: target.url })] });
  const incident = await declare(page, testInfo, `Checkout down (${testInfo.project.name}, runs)`);

  await page.getByRole("link", { name: `Run “${name}”` }).click();
  await ready(page, testInfo);
  await expect(page.getByRole("region", { name: "Run for this incident" })).toContainText("go on the timeline of INC-");
  await page.getByRole("button", { name: "Run now", exact: true }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  const run = page.url().split("/").pop();
  await expect(page.getByRole("status", { name: "Run status" })).toHaveText("Passed", { timeout: 15_000 });

  await page.goto(incident);
  await ready(page, testInfo);
  const timeline = page.getByRole("list", { name: "Timeline" });
  await expect(timeline).toContainText(`Run #${run} of “${name}” started`);
  await expect(timeline).toContainText(`Run #${run}: step “Health answers” passed`);
  await expect(timeline).toContainText(`Run #${run} of “${name}” passed`);
  target.close();
});

test("without JavaScript a run waiting for your answer does not reload under your comment", async ({ page }, testInfo) => {
  test.skip(isHydrated(testInfo), "the self-refresh is the no-JavaScript page's");
  await signIn(page, testInfo, COMMANDER);
  const plan = await createPlan(page, {
    ...base, name: "Manual look (no JS)", scene: "emergency",
    steps: [{ id: "look", action: "manual_check", name: "Look at the dashboard", timeout_secs: 600, pre_confirm: false,
      on_failure: "abort", weight: 20, phase: null, params: { instructions: { set: "Is it green?" } } }],
  });
  const started = await page.request.post("/api/start_run", {
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    data: { plan, answers: {}, incident: null },
  });
  const run = await started.json();
  await page.goto(`/runs/${run}`);
  await expect(page.getByRole("status", { name: "Run status" })).toHaveText("Waiting for a person", { timeout: 10_000 });
  await expect(page.getByText("Waiting for someone to check")).toBeVisible();
  await page.getByLabel("Comment").fill("dashboard is green in EU, amber in US");
  await page.waitForTimeout(4_500);
  await expect(page.getByLabel("Comment")).toHaveValue("dashboard is green in EU, amber in US");
  await expect(page.getByRole("link", { name: "Refresh" })).toBeVisible();
});
