// Writing a postmortem from the browser — 5 whys, lessons, action items, review, publication,
// the incident marked reviewed, the Markdown download — and two people editing at once, with
// JavaScript off (plain form posts) and hydrated (autosave).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Page, TestInfo, expect, test } from "@playwright/test";
import { ADMIN, COMMANDER, declare, freshPage, isHydrated, move, ready, signIn } from "./helpers";

/** A recovered incident with a started postmortem; returns the postmortem's URL. */
async function startPostmortem(page: Page, testInfo: TestInfo, title: string): Promise<string> {
  await signIn(page, testInfo, COMMANDER);
  await declare(page, testInfo, title);
  await move(page, testInfo, "Rolled back the deploy", "Start mitigating", "Mitigating");
  await move(page, testInfo, "Healthy for 15 minutes", "Mark recovered", "Recovered");
  await page.getByRole("link", { name: "Open the postmortem" }).click();
  await expect(page.getByRole("heading", { name: `Postmortem: ${title}` })).toBeVisible();
  await ready(page, testInfo);
  await page.getByRole("button", { name: "Start the postmortem" }).click();
  await expect(page.getByLabel("What happened")).toBeVisible();
  await ready(page, testInfo);
  return page.url();
}

const saved = (page: Page) => page.getByRole("status").filter({ hasText: /^Saved \(version \d+\)$/ });

/** Stores what was typed: autosave when hydrated, the Save button without JavaScript. */
async function save(page: Page, testInfo: TestInfo) {
  if (isHydrated(testInfo)) {
    await expect(saved(page)).toBeVisible();
  } else {
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  }
}

const why = (page: Page, n: number) => page.getByLabel(`Why ${n}`, { exact: true });
const because = (page: Page, n: number) => page.getByLabel(`Because ${n}`, { exact: true });

async function addAction(page: Page, testInfo: TestInfo, title: string, due: string, kind: string) {
  await ready(page, testInfo);
  await page.getByLabel("Action", { exact: true }).fill(title);
  await page.getByLabel("Owner").selectOption(COMMANDER.username);
  await page.getByLabel("Due date").fill(due);
  await page.getByLabel("Priority").selectOption("p1");
  await page.getByLabel("Kind").selectOption(kind);
  await page.getByRole("button", { name: "Add action item" }).click();
  if (due < new Date().toISOString().slice(0, 10)) {
    // A date that has passed is asked about first; what was typed stays.
    await expect(page.getByText("has already passed")).toBeVisible();
    await ready(page, testInfo);
    await expect(page.getByLabel("Action", { exact: true })).toHaveValue(title);
    await page.getByLabel("Record it anyway (it is already overdue)").check();
    await page.getByRole("button", { name: "Add action item" }).click();
  }
  await expect(page.getByRole("rowheader", { name: title })).toBeVisible();
}

test("a postmortem with 5 whys and two actions is published, the incident reviewed, the Markdown complete", async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.type()}: ${m.text()}`);
  });
  const title = `Card payments fail (${testInfo.project.name})`;
  const url = await startPostmortem(page, testInfo, title);
  await expect(page.getByText("Detected → recovered", { exact: true })).toBeVisible();

  await page.getByLabel("What happened").fill("Card payments failed for 40 minutes after a deploy.");
  await page.getByLabel("Who and what was affected").fill("Every customer paying by card in the EU.");
  await page.getByLabel("Root causes").fill("The gateway certificate expired\nNo alert on expiry");
  const chain = [
    ["Why did card payments fail?", "The gateway refused our TLS handshake"],
    ["Why was it refused?", "Our client certificate had expired"],
    ["Why did it expire unnoticed?", "Nobody owned its renewal"],
    ["Why did nobody own it?", "It was set up by a team that no longer exists"],
    ["Why was that not caught?", "Certificates are not in the service inventory"],
  ];
  for (const [i, [w, b]] of chain.entries()) {
    await why(page, i + 1).fill(w);
    await because(page, i + 1).fill(b);
  }
  await page.getByLabel("What went well").fill("Rollback took five minutes");
  await page.getByLabel("Where we got lucky").fill("It was a quiet Sunday");
  await page.getByRole("checkbox", { name: /Declared as SEV1/ }).check();
  await save(page, testInfo);

  // A sixth why, moved up one place: the chain keeps every text in its new order.
  await page.getByRole("button", { name: "Add a why" }).click();
  await ready(page, testInfo);
  await why(page, 6).fill("Why is there no inventory?");
  await because(page, 6).fill("It was never prioritised");
  await page.getByRole("button", { name: "Move why 6 up" }).click();
  await ready(page, testInfo);
  await expect(why(page, 5)).toHaveValue("Why is there no inventory?");
  await expect(why(page, 6)).toHaveValue("Why was that not caught?");
  await save(page, testInfo);

  await addAction(page, testInfo, "Alert 30 days before any certificate expires", "2030-01-15", "preventive");
  await addAction(page, testInfo, "Renew and pin the gateway certificate", "2030-01-02", "corrective");

  await ready(page, testInfo);
  await page.getByRole("button", { name: "Send for review" }).click();
  await expect(page.getByText("This postmortem is in review.")).toBeVisible();
  await ready(page, testInfo);
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByText("Published.")).toBeVisible();
  // Published: read-only, as a report.
  await expect(page.getByLabel("What happened")).toHaveCount(0);
  await expect(page.getByText("Card payments failed for 40 minutes after a deploy.")).toBeVisible();

  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download Markdown" }).click();
  const markdown = readFileSync((await (await download).path())!, "utf8");
  expect(markdown).toContain(`# Postmortem: `);
  for (const section of ["## Summary", "## Impact", "## Key moments", "## Root causes", "## Contributing factors", "## 5 whys", "## Lessons", "### What went well", "### What went wrong", "### Where we got lucky", "## Corrective and preventive actions"]) {
    expect(markdown).toContain(`\n${section}\n`);
  }
  expect(markdown).toContain("5. **Why is there no inventory?**");
  expect(markdown).toContain("6. **Why was that not caught?**");
  expect(markdown).toContain("| Alert 30 days before any certificate expires | Preventive | P1 |");
  expect(markdown).toContain("| Renew and pin the gateway certificate | Corrective | P1 |");
  expect(markdown).toContain("Detected → recovered:");

  await page.getByRole("link", { name: "The incident can now be marked reviewed." }).click();
  await move(page, testInfo, "Postmortem read with the team", "Mark reviewed", "Reviewed");
  // Closed: nothing is asked any more, not even a note.
  await expect(page.getByText("This incident is closed.")).toBeVisible();
  await expect(page.getByLabel("Note (required: say why)")).toHaveCount(0);
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText("Postmortem published");
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText("Action item for e2e-commander");
  expect(url).toContain("/postmortem");
  expect(errors).toEqual([]);
});

test("two people edit at once: the second is told, sees both versions and keeps their text", async ({ page, browser }, testInfo) => {
  const url = await startPostmortem(page, testInfo, `Search is slow (${testInfo.project.name})`);
  const other = await freshPage(browser, testInfo);
  await signIn(other, testInfo, ADMIN);
  await other.goto(url);
  await ready(other, testInfo);
  await expect(other.getByLabel("What happened")).toBeVisible();

  await page.getByLabel("What happened").fill("The index was rebuilt during peak hours.");
  await save(page, testInfo);

  await other.getByLabel("What happened").fill("A slow query saturated the search cluster.");
  if (!isHydrated(testInfo)) {
    await other.getByRole("button", { name: "Save", exact: true }).click();
  }
  const warning = other.getByRole("alert").filter({ hasText: "Your changes are not saved" });
  await expect(warning).toBeVisible();
  await expect(warning).toContainText("Someone else saved this postmortem");
  await expect(warning).toContainText("The index was rebuilt during peak hours.");
  await expect(warning).toContainText("A slow query saturated the search cluster.");
  await expect(other.getByLabel("What happened")).toHaveValue("A slow query saturated the search cluster.");

  // Their choice: keep their own text. It is saved over the stored version, knowingly.
  await ready(other, testInfo);
  await other.getByRole("button", { name: "Save my version" }).click();
  if (isHydrated(testInfo)) {
    await expect(saved(other)).toBeVisible();
  } else {
    await expect(other.getByText("Saved.", { exact: true })).toBeVisible();
  }
  await expect(warning).toHaveCount(0);
  await page.reload();
  await expect(page.getByLabel("What happened")).toHaveValue("A slow query saturated the search cluster.");
  await other.context().close();
});

test("after a conflict the author may take the stored version instead", async ({ page, browser }, testInfo) => {
  const url = await startPostmortem(page, testInfo, `Login loops (${testInfo.project.name})`);
  const other = await freshPage(browser, testInfo);
  await signIn(other, testInfo, ADMIN);
  await other.goto(url);
  await ready(other, testInfo);
  await page.getByLabel("Root causes").fill("Session cookie set for the wrong domain");
  await save(page, testInfo);
  await other.getByLabel("Root causes").fill("A stale CDN rule");
  if (!isHydrated(testInfo)) {
    await other.getByRole("button", { name: "Save", exact: true }).click();
  }
  const warning = other.getByRole("alert").filter({ hasText: "Your changes are not saved" });
  await expect(warning).toBeVisible();
  await ready(other, testInfo);
  await other.getByRole("button", { name: "Use the stored version" }).click();
  await expect(warning).toHaveCount(0);
  await expect(other.getByLabel("Root causes")).toHaveValue("Session cookie set for the wrong domain");
  // Nothing of theirs is kept any more: a reload shows no warning.
  await other.reload();
  await expect(other.getByLabel("Root causes")).toHaveValue("Session cookie set for the wrong domain");
  await expect(warning).toHaveCount(0);
  await other.context().close();
});

test("action items: my items, overdue, state changes and the owner's reminder", async ({ page }, testInfo) => {
  const title = `Disk full (${testInfo.project.name})`;
  await startPostmortem(page, testInfo, title);
  const late = `Clean up old snapshots (${testInfo.project.name})`;
  const later = `Add a disk usage alert (${testInfo.project.name})`;
  await addAction(page, testInfo, late, "2020-01-01", "corrective");
  await addAction(page, testInfo, later, "2099-01-01", "preventive");

  await page.goto("/actions?mine=1");
  await ready(page, testInfo);
  const lateRow = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: late }) });
  await expect(lateRow).toContainText("Overdue");
  await expect(page.getByRole("rowheader", { name: later })).toBeVisible();

  await page.getByLabel("Overdue only").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("rowheader", { name: late })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: later })).toHaveCount(0);

  // The daily job (run now, as `nightwatch remind`): the owner gets a badge and a list.
  execFileSync(process.env.NIGHTWATCH_BIN!, ["remind"], { env: process.env });
  await page.goto("/actions?mine=1");
  await ready(page, testInfo);
  await expect(page.getByRole("link", { name: /Action items \d+ unread reminders/ })).toBeVisible();
  const reminders = page.getByRole("region", { name: /Reminders for you/ });
  await expect(reminders).toContainText(late);

  await ready(page, testInfo);
  await lateRow.getByLabel(`State of “${late}”`).selectOption("done");
  await lateRow.getByRole("button", { name: "Update" }).click();
  await expect(lateRow.getByLabel(`State of “${late}”`)).toHaveValue("done");
  await expect(lateRow).not.toContainText("Overdue");

  await ready(page, testInfo);
  await page.getByRole("button", { name: "Mark all as read" }).click();
  await expect(reminders).toHaveCount(0);
});
