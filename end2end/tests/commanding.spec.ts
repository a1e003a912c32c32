// Commanding under pressure: a teammate's note never blocks the commander's move, the boxes
// empty after a move succeeds, the timeline follows when things happened, and a closed incident
// asks for nothing.
import { expect, test } from "@playwright/test";
import { ADMIN, COMMANDER, declare, freshPage, move, ready, signIn } from "./helpers";

test("a teammate's note between loading and moving does not refuse the move", async ({ page, browser }, testInfo) => {
  await signIn(page, testInfo, COMMANDER);
  const url = await declare(page, testInfo, `Payments slow (${testInfo.project.name}, note race)`);
  const number = url.split("/").pop()!;

  // A teammate writes on the timeline while the commander's page is open.
  const teammate = await freshPage(browser, testInfo);
  await signIn(teammate, testInfo, ADMIN);
  const noted = await teammate.request.post("/api/add_note", {
    headers: { Accept: "application/json" },
    form: { number, body: "teammate: error rate 40%", occurred_at: "" },
  });
  expect(noted.status(), await noted.text()).toBe(200);

  await move(page, testInfo, "rolling back the deploy", "Start mitigating", "Mitigating");
  await expect(page.getByRole("alert").filter({ hasText: "someone else" })).toHaveCount(0);
  // The note box is empty again after the move; the severity "Why" too after its change.
  await expect(page.getByLabel("Note (required: say why)")).toHaveValue("");
  await page.getByLabel("New severity").selectOption("sev2");
  await page.getByLabel("Why", { exact: true }).fill("spreading to EU");
  await page.getByRole("button", { name: "Change severity" }).click();
  await expect(page.getByLabel("Severity and status")).toContainText("SEV2");
  await expect(page.getByLabel("Why", { exact: true })).toHaveValue("");
  await teammate.context().close();
});

test("two moves made at once: the second is told and keeps its note", async ({ page, browser }, testInfo) => {
  await signIn(page, testInfo, COMMANDER);
  const url = await declare(page, testInfo, `Queue stuck (${testInfo.project.name}, move race)`);
  const number = url.split("/").pop()!;
  const other = await freshPage(browser, testInfo);
  await signIn(other, testInfo, ADMIN);
  const moved = await other.request.post("/api/transition_incident", {
    headers: { Accept: "application/json" },
    form: { number, from: "open", to: "mitigating", note: "taking it" },
  });
  expect(moved.status(), await moved.text()).toBe(200);

  await ready(page, testInfo);
  await page.getByLabel("Note (required: say why)").fill("my note about the rollback");
  await page.getByRole("button", { name: "Start mitigating", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Someone else changed the status" })).toBeVisible();
  await expect(page.getByLabel("Note (required: say why)")).toHaveValue("my note about the rollback");
  await other.context().close();
});

test("the timeline follows when things happened, not when they were written", async ({ page }, testInfo) => {
  await signIn(page, testInfo, COMMANDER);
  const url = await declare(page, testInfo, `Disk full (${testInfo.project.name}, order)`);
  const number = url.split("/").pop()!;
  const earlier = new Date(Date.now() - 30 * 60_000).toISOString().slice(0, 16);
  const noted = await page.request.post("/api/add_note", {
    headers: { Accept: "application/json" },
    form: { number, body: "first alert fired 30 minutes ago", occurred_at: earlier },
  });
  expect(noted.status(), await noted.text()).toBe(200);
  await page.goto(`${url}?order=oldest`);
  await ready(page, testInfo);
  const entries = page.getByRole("list", { name: "Timeline" }).getByRole("listitem");
  await expect(entries.first()).toContainText("first alert fired 30 minutes ago");
  await expect(entries.nth(1)).toContainText("Declared");
});

test("a closed incident asks for no note, and says how long it lasted", async ({ page }, testInfo) => {
  await signIn(page, testInfo, COMMANDER);
  await declare(page, testInfo, `Cache cold (${testInfo.project.name}, closed)`);
  await expect(page.getByLabel("Severity and status")).toContainText("Open for");
  await move(page, testInfo, "warming", "Start mitigating", "Mitigating");
  await move(page, testInfo, "warm again", "Mark recovered", "Recovered");
  await expect(page.getByLabel("Severity and status")).toContainText("Recovered after");
  // Recovered still offers "Reopen" (with its note); nothing else is asked.
  await expect(page.getByRole("button", { name: "Reopen", exact: true })).toBeVisible();
});

test("take command is the first thing a commander can do", async ({ page }, testInfo) => {
  await signIn(page, testInfo, ADMIN);
  await declare(page, testInfo, `Login errors (${testInfo.project.name}, command)`);
  const command = page.getByRole("region", { name: "Command" });
  await expect(command).toContainText("Nobody commands this incident yet.");
  await command.getByRole("button", { name: "Take command" }).click();
  await expect(command).toContainText("You are the commander.");
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText("is commander");
});
