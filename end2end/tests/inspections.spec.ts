// Inspections: a failing inspection raises a risk event shown on the inspections page with its
// failed step and run; the next passing run resolves it — with JavaScript on and off.
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { Page, TestInfo, expect, test } from "@playwright/test";
import { COMMANDER, VIEWER, createPlan, freshPage, ready, signIn } from "./helpers";

/** Runs plan `number` from its page and waits until the run ends with `status`. */
async function runNow(page: Page, testInfo: TestInfo, number: number, status: string) {
  await page.goto(`/plans/${number}`);
  await ready(page, testInfo);
  await page.getByRole("button", { name: "Run now", exact: true }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await ready(page, testInfo);
  await expect(page.getByRole("status", { name: "Run status" })).toHaveText(status, { timeout: 20_000 });
}

test("a failed inspection raises a risk event with its step; passing again resolves it", async ({ page, browser }, testInfo) => {
  let healthy = false;
  const server = http.createServer((_req, res) => {
    res.writeHead(healthy ? 200 : 503, { "Content-Type": "text/plain" });
    res.end(healthy ? "ready" : "down");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const tag = `${testInfo.project.name}-${Date.now()}`;
  const name = `Checkout readiness ${tag}`;
  await signIn(page, testInfo, COMMANDER);
  const number = await createPlan(page, {
    name, description: "", scene: "inspection", service: `checkout-${tag}`, scenario: "", rto_secs: null, rpo_secs: null, enabled: true,
    steps: [{
      id: "ready", action: "http_request", name: "Checkout is ready", timeout_secs: 30, pre_confirm: false, on_failure: "abort", weight: 20, phase: null,
      params: { method: { set: "GET" }, url: { set: `http://127.0.0.1:${port}/ready` }, expect_status: { set: "200" } },
    }],
  });

  await runNow(page, testInfo, number, "Failed");
  await page.goto("/inspections");
  await ready(page, testInfo);
  const card = page.getByRole("listitem", { name });
  await expect(card.getByText("Failing", { exact: true })).toBeVisible();
  await expect(card).toContainText("at step “1. Checkout is ready”");
  await expect(card.getByRole("link", { name: /^Run #\d+$/ })).toBeVisible();
  await card.getByRole("link", { name: /^RISK-\d+$/ }).click();
  await expect(page.getByRole("heading", { name: `Inspection “${name}” failed at step 1. Checkout is ready: expected status 200, got 503` })).toBeVisible();
  await expect(page.getByText("InspectionFailed").first()).toBeVisible();

  healthy = true;
  await runNow(page, testInfo, number, "Passed");
  await page.goto("/inspections");
  await ready(page, testInfo);
  await expect(card.getByText("Passing", { exact: true })).toBeVisible();
  await expect(card).toContainText("50% (1 of 2)");
  await expect(card.getByRole("list", { name: "Latest 2 runs, newest first" }).getByRole("listitem")).toHaveCount(2);
  await page.goto(`/risks?status=resolved&source=inspection&service=checkout-${tag}`);
  await expect(page.getByRole("main")).toContainText(`Inspection “${name}” failed`);

  // A viewer reads the page from the risk board's navigation.
  const viewer = await freshPage(browser, testInfo);
  await signIn(viewer, testInfo, VIEWER);
  await viewer.goto("/risks");
  await ready(viewer, testInfo);
  await viewer.getByRole("navigation", { name: "Risk" }).getByRole("link", { name: "Inspections" }).click();
  await expect(viewer.getByRole("heading", { name: "Inspections", level: 1 })).toBeVisible();
  await expect(viewer.getByRole("listitem", { name }).getByText("Passing", { exact: true })).toBeVisible();
  await viewer.context().close();
  server.close();
});
