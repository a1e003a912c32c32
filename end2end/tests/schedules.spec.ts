// Drill schedules, scores and reviews: a schedule written in the composer (a wrong expression
// refused beside its field, the next five runs shown); a drill scheduled a few seconds ahead
// that starts by itself, is scored, reviewed and gets an action item; pausing the schedule.
import { expect, test } from "@playwright/test";
import { COMMANDER, createPlan, isHydrated, ready, signIn } from "./helpers";

const waitStep = {
  id: "settle", action: "wait", name: "Let traffic settle", timeout_secs: 30, pre_confirm: false, on_failure: "abort",
  weight: 20, phase: null, params: { duration: { set: "1s" } },
};

/** A cron expression (with seconds, UTC) for one moment `secondsAhead` from now, daily. */
function cronAhead(secondsAhead: number): string {
  const at = new Date(Date.now() + secondsAhead * 1000);
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
}

test("a schedule is written in the composer: a wrong expression is refused, the next five runs are shown", async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo), "the composer needs JavaScript");
  await signIn(page, testInfo, COMMANDER);
  const name = "Nightly failover drill";
  const number = await createPlan(page, {
    name, description: "", scene: "drill", service: "checkout", scenario: "primary lost", rto_secs: 600, rpo_secs: null,
    enabled: true, steps: [waitStep],
  });
  await page.goto(`/plans/${number}/edit`);
  await ready(page, testInfo);
  const section = page.getByRole("region", { name: "Schedule" });
  await section.getByLabel("Run this drill on a schedule").check();
  const cron = section.getByLabel("Cron expression");
  await cron.fill("0 9 * *");
  await expect(section).toContainText("A cron expression has 5 fields");
  await cron.fill("0 25 * * *");
  await expect(section.getByRole("alert").first()).not.toBeEmpty();
  await cron.fill("30 2 * * SUN");
  await section.getByLabel("Time zone").fill("Mars/Olympus");
  await expect(section).toContainText("is not a time zone");
  await section.getByLabel("Time zone").fill("America/New_York");
  const next = section.getByRole("table", { name: "Next five runs" });
  await expect(next.getByRole("row")).toHaveCount(6);
  await expect(next.getByRole("row").nth(1)).toContainText("Sun");
  await expect(next.getByRole("row").nth(1)).toContainText("02:30:00");
  await expect(next.getByRole("columnheader").first()).toHaveText("Plan time (America/New_York)");
  await expect(next.getByRole("columnheader").nth(1)).toHaveText(/Your time \(.+\)/);
  await section.getByLabel("When a run is still active").selectOption("replace");
  await page.getByRole("button", { name: "Save as a new version" }).click();
  await expect(page).toHaveURL(new RegExp(`/plans/${number}$`));
  const schedule = page.getByRole("region", { name: "Schedule" });
  await expect(schedule).toContainText("30 2 * * SUN");
  await expect(schedule).toContainText("America/New_York");
  await expect(schedule.getByLabel("Schedule state")).toHaveText("Active");
  await expect(schedule.getByRole("table", { name: "Next five runs" }).getByRole("row")).toHaveCount(6);
});

test("a drill scheduled seconds ahead starts by itself, is scored, reviewed and gets an action item", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  await signIn(page, testInfo, COMMANDER);
  const name = `Scheduled cache drill (${testInfo.project.name})`;
  const number = await createPlan(page, {
    name, description: "", scene: "drill", service: "cache", scenario: "node lost", rto_secs: 600, rpo_secs: null,
    enabled: true, steps: [waitStep], schedule: { cron: cronAhead(8), zone: "UTC", concurrency: "forbid" },
  });
  await page.goto(`/plans/${number}`);
  await ready(page, testInfo);
  const schedule = page.getByRole("region", { name: "Schedule" });
  await expect(schedule.getByLabel("Schedule state")).toHaveText("Active");
  await expect(schedule).toContainText("No due time has come yet.");

  // Nobody presses anything: the scheduler starts the run at its time.
  const started = schedule.getByRole("row").filter({ hasText: "Started" });
  await expect(async () => {
    await page.reload();
    await expect(started).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 30_000, intervals: [1_000] });
  await started.getByRole("link", { name: /Run #\d+/ }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await ready(page, testInfo);
  await expect(page.getByRole("status", { name: "Run status" })).toHaveText("Passed", { timeout: 15_000 });
  await expect(page.getByText("Schedule ·")).toBeVisible();

  // Scored, with the formula beside the figure.
  const score = page.getByRole("region", { name: "Score" });
  await expect(score.getByLabel("Score", { exact: true })).toHaveText("100 / 100");
  await expect(score.getByLabel("Verdict")).toHaveText("Pass");
  await expect(score).toContainText("How the score is computed (formula v2)");

  // The review: findings are required.
  const review = page.getByRole("region", { name: "Review" });
  await expect(review).toContainText("Not reviewed yet.");
  await review.getByRole("button", { name: "Save review" }).click();
  await expect(review).toContainText("Say what the drill showed, even if it went well.");
  await review.getByLabel("Findings (required)").fill("Cache refilled in 40 s; p99 doubled meanwhile.");
  await review.getByLabel("What to change").fill("Pre-warm the standby cache.");
  await review.getByRole("button", { name: "Save review" }).click();
  await expect(review).toContainText("Reviewed by e2e-commander");
  await expect(review).toContainText("Pre-warm the standby cache.");

  // An action item from the review, linked to the run.
  await review.getByLabel("Action", { exact: true }).fill(`Pre-warm standby cache (${testInfo.project.name})`);
  await review.getByLabel("Owner").selectOption("e2e-commander");
  await review.getByLabel("Due date").fill("2030-01-15");
  await review.getByRole("button", { name: "Add action item" }).click();
  await expect(review.getByRole("row", { name: new RegExp(`Pre-warm standby cache \\(${testInfo.project.name}\\)`) })).toBeVisible();
  const run = page.url().match(/\/runs\/(\d+)/)![1];

  await page.goto("/actions");
  await ready(page, testInfo);
  const row = page.getByRole("row", { name: new RegExp(`Pre-warm standby cache \\(${testInfo.project.name}\\)`) });
  await expect(row.getByRole("link", { name: `Run #${run}` })).toBeVisible();

  // Back on the plan: the run is scored and reviewed; the schedule can be paused.
  await page.goto(`/plans/${number}`);
  await ready(page, testInfo);
  const history = page.getByRole("region", { name: "Run history" });
  await expect(history.getByRole("row", { name: new RegExp(`Run #${run}`) })).toContainText("Reviewed");
  await expect(page.getByRole("region", { name: "Drill record" })).toContainText("100%");
  await page.getByRole("button", { name: "Pause schedule" }).click();
  await expect(page.getByRole("region", { name: "Schedule" }).getByLabel("Schedule state")).toHaveText("Paused");
  await page.getByRole("button", { name: "Resume schedule" }).click();
  await expect(page.getByRole("region", { name: "Schedule" }).getByLabel("Schedule state")).toHaveText("Active");
});
