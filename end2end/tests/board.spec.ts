// The metrics board with a known data set: two SEV1 incidents of a service of their own, detected
// 30 and 90 minutes ago and recovered now, so MTTR is 1 h (mean and median) and 1 h 24 min (p90).
// A viewer reads the figures, then changes the filter and the board (and the URL) follows.
import { expect, test } from "@playwright/test";
import { COMMANDER, VIEWER, freshPage, isHydrated, ready, signIn } from "./helpers";

test("the board shows the known figures and follows its filter", async ({ page, browser }, testInfo) => {
  const service = `board-${testInfo.project.name}-${Date.now()}`;
  await signIn(page, testInfo, COMMANDER);
  const form = { headers: { Accept: "application/json" } };
  for (const minutesAgo of [30, 90]) {
    const detected = new Date(Date.now() - minutesAgo * 60_000).toISOString().slice(0, 19);
    const res = await page.request.post("/api/declare_incident", {
      ...form,
      form: {
        title: `Board check ${minutesAgo} min`, description: "", severity: "sev1",
        services: service, tags: "e2e", detected_at: detected,
      },
    });
    expect(res.status(), await res.text()).toBe(200);
    const n = await res.json();
    const number = typeof n === "number" ? `INC-${n}` : String(n);
    for (const [from, to] of [["open", "mitigating"], ["mitigating", "recovered"]] as const) {
      const moved = await page.request.post("/api/transition_incident", {
        ...form,
        form: { number, from, to, note: "board check" },
      });
      expect(moved.status(), await moved.text()).toBe(200);
    }
  }

  const viewer = await freshPage(browser, testInfo);
  await signIn(viewer, testInfo, VIEWER);
  await viewer.goto("/board");
  await ready(viewer, testInfo);
  await expect(viewer.getByRole("heading", { name: "Metrics", level: 1 })).toBeVisible();
  await viewer.getByLabel("Service", { exact: true }).selectOption(service);
  await viewer.getByRole("button", { name: "Apply" }).click();
  await expect(viewer).toHaveURL(new RegExp(`service=${service}`));
  await expect(viewer.getByText("2 incidents detected")).toBeVisible();
  if (isHydrated(testInfo)) {
    // The address to share holds the filter and nothing else (no empty fields, no stray "&=").
    const query = new URL(viewer.url()).search;
    expect(query).not.toMatch(/(^\?|&)=|=(&|$)/);
  }

  const mttr = viewer.getByRole("region", { name: "MTTR" });
  await expect(mttr.locator(".metric-value")).toHaveText("1 h 00 min");
  await expect(mttr.getByRole("definition").nth(0)).toHaveText("1 h 00 min"); // median
  await expect(mttr.getByRole("definition").nth(1)).toHaveText("1 h 24 min"); // p90
  await expect(mttr.getByRole("definition").nth(2)).toHaveText("2");
  await expect(mttr).toContainText("from detection to full recovery");
  const mtta = viewer.getByRole("region", { name: "MTTA" });
  await expect(mtta.locator(".metric-value")).toHaveText("1 h 00 min");
  const severity = viewer.getByRole("table", { name: "By severity" });
  await expect(severity.getByRole("row", { name: /SEV1/ })).toContainText("2");
  await expect(viewer.getByRole("img", { name: "Incidents per week" })).toBeVisible();

  // Detected 30 and 90 minutes ago: both in this week's bar — or, in the first hour and a half
  // of a Monday (UTC), one or both in last week's.
  const count = (text: string | null) => Number(/(?:^|\s)(\d+) incidents?/.exec(text ?? "")?.[1] ?? NaN);
  if (isHydrated(testInfo)) {
    // The chart's tooltip follows the pointer after hydration.
    const bars = viewer.getByRole("img", { name: "Incidents per week" }).locator("rect.bar");
    const tip = viewer.getByRole("tooltip");
    const last = (await bars.count()) - 1;
    await bars.nth(last).hover();
    await expect(tip).toContainText(/\d+ incidents?/);
    const thisWeek = await tip.textContent();
    await bars.nth(last - 1).hover();
    await expect(tip).not.toHaveText(thisWeek ?? "");
    expect(count(thisWeek) + count(await tip.textContent())).toBe(2);
  } else {
    await viewer.getByText("Incidents per week as a table").click();
    const weeks = await viewer.getByRole("table", { name: "Incidents per week" }).getByRole("cell").allTextContents();
    expect(weeks.map(count).filter((n) => !Number.isNaN(n)).reduce((a, b) => a + b, 0)).toBe(2);
  }

  // Another severity: nothing matches, and the view is in the URL to share.
  await viewer.getByLabel("Severity", { exact: true }).selectOption("sev2");
  await viewer.getByRole("button", { name: "Apply" }).click();
  await expect(viewer).toHaveURL(/severity=sev2/);
  await expect(viewer.getByText("0 incidents detected")).toBeVisible();
  await expect(viewer.getByRole("region", { name: "MTTR" }).locator(".metric-value")).toHaveText("—");

  // A bad date is refused beside its field.
  await viewer.goto(`/board?service=${service}&from=someday`);
  await ready(viewer, testInfo);
  await expect(viewer.getByText('"someday" is not a date')).toBeVisible();
  await viewer.context().close();
});
