// The risk board: alerts sent by a monitor appear grouped by service, and a responder
// acknowledges, silences, declares an incident from and links events — with JavaScript on and off.
import { APIRequestContext, expect, test } from "@playwright/test";
import { ADMIN, COMMANDER, VIEWER, ready, signIn } from "./helpers";

/** Sends generic alerts as the monitoring token run.sh made. */
async function send(request: APIRequestContext, alerts: object[]): Promise<number[]> {
  const res = await request.post("/api/v1/alerts", {
    headers: { Authorization: `Bearer ${process.env.E2E_ALERT_TOKEN}` },
    data: alerts,
  });
  expect(res.status(), await res.text()).toBe(202);
  return (await res.json()).opened;
}

/** A firing alert unique to this test and project. */
function alert(name: string, service: string, instance: string, summary: string) {
  return {
    source: "e2e-monitor",
    severity: "critical",
    labels: { alertname: name, service, instance, severity: "critical" },
    summary,
  };
}

test("a responder acknowledges an alert from the board and it moves to its tab", async ({ page, request }, testInfo) => {
  const tag = `${testInfo.project.name}-${Date.now()}`;
  const service = `checkout-${tag}`;
  const [n] = await send(request, [alert("HighLatency", service, "web-1", `p99 over 2 s ${tag}`)]);
  await signIn(page, testInfo, COMMANDER);
  await page.goto(`/risks?service=${service}`);
  await ready(page, testInfo);
  const group = page.getByRole("region", { name: `Service ${service}` });
  await expect(group).toContainText(`RISK-${n}`);
  await expect(group).toContainText(`p99 over 2 s ${tag}`);
  await expect(group.getByText("SEV1")).toBeVisible();
  await page.getByRole("button", { name: `Acknowledge RISK-${n}` }).click();
  await expect(page.getByRole("region", { name: `Service ${service}` })).toHaveCount(0);
  await page.getByRole("link", { name: /^Acknowledged/ }).click();
  await expect(page).toHaveURL(/status=acknowledged/);
  await expect(page.getByRole("region", { name: `Service ${service}` })).toContainText("acknowledged by e2e-commander");
});

test("an event silenced from its page leaves the open tab, its matchers prefilled", async ({ page, request }, testInfo) => {
  const tag = `${testInfo.project.name}-${Date.now()}`;
  const [n] = await send(request, [alert("DiskFull", `storage-${tag}`, "db-1", `disk 95% ${tag}`)]);
  await signIn(page, testInfo, COMMANDER);
  await page.goto(`/risks/${n}`);
  await ready(page, testInfo);
  await expect(page.getByRole("heading", { name: `disk 95% ${tag}` })).toBeVisible();
  await expect(page.getByLabel("Matchers")).toHaveValue(new RegExp(`service="storage-${tag}"`));
  await page.getByLabel("Why").fill("Replacing the disk");
  await page.getByRole("button", { name: "Silence", exact: true }).click();
  await expect(page.getByText(/until .* by e2e-commander: Replacing the disk/)).toBeVisible();
  await page.goto(`/risks?status=silenced&service=storage-${tag}`);
  await expect(page.getByRole("region", { name: `Service storage-${tag}` })).toContainText("silenced");
});

test("a bad silence is answered beside its matchers", async ({ page, request }, testInfo) => {
  const tag = `${testInfo.project.name}-${Date.now()}`;
  const [n] = await send(request, [alert("CPU", `batch-${tag}`, "b-1", `cpu ${tag}`)]);
  await signIn(page, testInfo, COMMANDER);
  await page.goto(`/risks/${n}`);
  await ready(page, testInfo);
  await page.getByLabel("Matchers").fill('instance=~"("');
  await page.getByLabel("Why").fill("oops");
  await page.getByRole("button", { name: "Silence", exact: true }).click();
  await expect(page.getByText(/is not a regular expression/)).toBeVisible();
  await expect(page.getByLabel("Why")).toHaveValue("oops");
});

test("a responder declares an incident from an event, prefilled, and it links back", async ({ page, request }, testInfo) => {
  const tag = `${testInfo.project.name}-${Date.now()}`;
  const service = `payments-${tag}`;
  const [n] = await send(request, [alert("ErrorRate", service, "api-1", `errors over 5% ${tag}`)]);
  const [m] = await send(request, [alert("ErrorRate", service, "api-2", `errors over 5% on api-2 ${tag}`)]);
  await signIn(page, testInfo, COMMANDER);
  await page.goto(`/risks/${n}`);
  await ready(page, testInfo);
  await expect(page.getByLabel("Title")).toHaveValue(`ErrorRate: errors over 5% ${tag}`);
  await expect(page.getByLabel("Services")).toHaveValue(service);
  await page.getByRole("button", { name: "Declare and link" }).click();
  await expect(page).toHaveURL(/\/incidents\/INC-\d+$/);
  const incident = page.url().split("/").pop()!;
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText(`Alert linked: RISK-${n}`);
  // The other event links to that incident.
  await page.goto(`/risks/${m}`);
  await ready(page, testInfo);
  await page.getByLabel("Incident", { exact: true }).selectOption(incident);
  await page.getByRole("button", { name: "Link", exact: true }).click();
  await expect(page.getByRole("link", { name: incident })).toBeVisible();
});

test("a viewer reads the board but is offered no action", async ({ page, request }, testInfo) => {
  const tag = `${testInfo.project.name}-${Date.now()}`;
  const [n] = await send(request, [alert("QueueStuck", `queue-${tag}`, "q-1", `queue stuck ${tag}`)]);
  await signIn(page, testInfo, VIEWER);
  await page.goto(`/risks?service=queue-${tag}`);
  await expect(page.getByRole("region", { name: `Service queue-${tag}` })).toContainText(`RISK-${n}`);
  await expect(page.getByRole("button", { name: `Acknowledge RISK-${n}` })).toHaveCount(0);
  await page.goto(`/risks/${n}`);
  await expect(page.getByText("Responders and above act on risk events.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Silence", exact: true })).toHaveCount(0);
});

test("the board shows a new alert by itself", async ({ page, request }, testInfo) => {
  test.skip(testInfo.project.name !== "hydrated", "live updates need JavaScript");
  const tag = `${testInfo.project.name}-${Date.now()}`;
  await signIn(page, testInfo, VIEWER);
  await page.goto(`/risks?service=live-${tag}`);
  await ready(page, testInfo);
  await expect(page.getByText(/Nothing is firing/)).toBeVisible();
  const [n] = await send(request, [alert("Late", `live-${tag}`, "x-1", `arrived later ${tag}`)]);
  await expect(page.getByRole("region", { name: `Service live-${tag}` })).toContainText(`RISK-${n}`, { timeout: 15_000 });
});

test("an admin adds an alert rule and an inhibition rule", async ({ page }, testInfo) => {
  const tag = `${testInfo.project.name}-${Date.now()}`;
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/alerting");
  await ready(page, testInfo);
  const rule = page.getByRole("region", { name: "New alert rule" });
  await rule.getByLabel("Name").fill(`Payments down ${tag}`);
  await rule.getByLabel("Matchers").fill(`service="pay-${tag}"`);
  await rule.getByRole("button", { name: "Add the rule" }).click();
  await expect(page.getByRole("listitem").filter({ hasText: `Payments down ${tag}` })).toContainText("declares an incident at once");
  const inhibit = page.getByRole("region", { name: "New inhibition rule" });
  await inhibit.getByLabel("Name").fill(`Node down ${tag}`);
  await inhibit.getByLabel("Source matchers").fill('alertname="NodeDown"');
  await inhibit.getByLabel("Target matchers").fill('alertname="HighLatency"');
  await inhibit.getByLabel("Labels they must agree on").fill("instance");
  await inhibit.getByRole("button", { name: "Add the rule" }).click();
  await expect(page.getByRole("listitem").filter({ hasText: `Node down ${tag}` })).toContainText("when they agree on instance");
});

test("a refused rule comes back in its own form with what was chosen", async ({ page }, testInfo) => {
  const tag = `${testInfo.project.name}-${Date.now()}`;
  await signIn(page, testInfo, ADMIN);
  await page.goto("/admin/alerting");
  await ready(page, testInfo);
  const form = page.getByRole("region", { name: "New alert rule" });
  await form.getByLabel("Name").fill(`Refused ${tag}`);
  await form.getByLabel("Matchers").fill(`service="refused-${tag}"`);
  await form.getByRole("checkbox", { name: /Declare an incident/ }).uncheck();
  await form.getByLabel("After this many receipts").fill("abc");
  await form.getByRole("button", { name: "Add the rule" }).click();
  await expect(form.getByText("Give a whole number.")).toBeVisible();
  // An unticked box stays unticked (a plain post that sends nothing for it too).
  await expect(form.getByRole("checkbox", { name: /Declare an incident/ })).not.toBeChecked();
  await expect(form.getByLabel("Name")).toHaveValue(`Refused ${tag}`);

  // An edit that is refused answers in that rule's form, not in the new-rule form.
  await form.getByRole("checkbox", { name: /Declare an incident/ }).check();
  await form.getByLabel("After this many receipts").fill("1");
  await form.getByRole("button", { name: "Add the rule" }).click();
  const item = page.getByRole("listitem").filter({ hasText: `Refused ${tag}` });
  await expect(item).toContainText("declares an incident at once");
  await ready(page, testInfo);
  await item.getByText("Edit", { exact: true }).click();
  const edit = item.getByRole("region", { name: "Edit the rule" });
  await edit.getByLabel("After firing this many minutes").fill("soon");
  await edit.getByRole("button", { name: "Save the rule" }).click();
  await expect(page.getByRole("listitem").filter({ hasText: `Refused ${tag}` }).getByText("Give a whole number.")).toBeVisible();
  await expect(page.getByRole("region", { name: "New alert rule" }).getByText("Give a whole number.")).toHaveCount(0);
  if (testInfo.project.name === "no-js") {
    // The page came back for the edit alone. (Hydrated, the new-rule form still holds what was
    // added a moment ago, as the other admin forms do: not cleared after a success yet.)
    await expect(page.getByRole("region", { name: "New alert rule" }).getByLabel("Name")).toHaveValue("");
  }
});
