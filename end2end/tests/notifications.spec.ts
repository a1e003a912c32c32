// Admin → Notifications: add a channel, send it a test, see a declared incident arrive, read the
// delivery log by state and retry a dead delivery — with JavaScript off and hydrated.
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { ADMIN, COMMANDER, declare, ready, signIn } from "./helpers";

type Received = { path: string; body: string };

/** A receiver on the loopback: `/gone` answers 410 (a hook that was deleted), the rest 200 "ok". */
async function receiver(): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      got.push({ path: req.url ?? "", body });
      if (req.url?.startsWith("/gone")) {
        res.writeHead(410).end("hook deleted");
      } else {
        res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, got, server };
}

async function addChannel(page, testInfo, name: string, url: string) {
  await page.goto("/admin/notifications");
  await ready(page, testInfo);
  const form = page.getByRole("region", { name: "New channel" });
  await form.getByLabel("Kind").selectOption("slack");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("URL").fill(url);
  await expect(form.getByLabel("Incident declared")).toBeChecked();
  await form.getByRole("button", { name: "Add the channel" }).click();
  await expect(page.getByRole("button", { name: `Send a test message to ${name}` })).toBeVisible();
}

test("an admin adds a channel, tests it, and a declared incident reaches it", async ({ page }, testInfo) => {
  const { url, got, server } = await receiver();
  const name = `#ops ${testInfo.project.name}`;
  try {
    await signIn(page, testInfo, ADMIN);
    await addChannel(page, testInfo, name, `${url}/services/T0/B0/token`);
    // The URL's token is never shown back.
    await expect(page.getByText(`${url}/…`)).toBeVisible();
    await expect(page.getByText("token", { exact: true })).toHaveCount(0);

    await ready(page, testInfo);
    await page.getByRole("button", { name: `Send a test message to ${name}` }).click();
    await expect(page.getByRole("status").filter({ hasText: /^Test delivered \(HTTP 200, \d+ ms\)\./ })).toBeVisible();
    expect(got.filter((r) => r.body.includes("Test message for")).length).toBe(1);

    const title = `Notified outage (${testInfo.project.name})`;
    await declare(page, testInfo, title);
    await expect.poll(() => got.filter((r) => r.body.includes(title)).length, { timeout: 15_000 }).toBe(1);

    await page.goto("/admin/notifications");
    await ready(page, testInfo);
    await page.getByRole("link", { name: `Delivery log of ${name}` }).click();
    await expect(page.getByRole("heading", { name: `Delivery log: ${name}` })).toBeVisible();
    await expect(page.getByText(new RegExp(`INC-\\d+ declared: ${title.replace(/[()]/g, "\\$&")}`))).toBeVisible();
    await page.getByRole("link", { name: "Dead" }).click();
    await expect(page.getByText("No dead deliveries")).toBeVisible();
  } finally {
    server.close();
  }
});

test("a dead delivery shows in the log and is retried now", async ({ page }, testInfo) => {
  const { url, got, server } = await receiver();
  const name = `gone ${testInfo.project.name}`;
  try {
    await signIn(page, testInfo, ADMIN);
    await addChannel(page, testInfo, name, `${url}/gone`);
    const title = `Dead letter (${testInfo.project.name})`;
    await declare(page, testInfo, title);
    await expect.poll(() => got.filter((r) => r.body.includes(title)).length, { timeout: 15_000 }).toBe(1);

    await page.goto("/admin/notifications");
    await page.getByRole("link", { name: `Delivery log of ${name}` }).click();
    await page.getByRole("link", { name: "Dead" }).click();
    await expect(page.getByText("Last answer: HTTP 410: answered 410").first()).toBeVisible();
    await ready(page, testInfo);
    await page.getByRole("button", { name: new RegExp(`^Retry now: INC-\\d+ declared: Dead letter \\(${testInfo.project.name}`) }).click();
    // Sent again at once; the receiver still refuses, so it is dead again after two attempts.
    await expect.poll(() => got.filter((r) => r.body.includes(title)).length, { timeout: 15_000 }).toBe(2);
    await expect(async () => {
      await page.reload();
      await expect(page.getByText(/· 2 attempts ·/).first()).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
  } finally {
    server.close();
  }
});

test("an alert rule pages the channel it names, whatever the channel subscribes to", async ({ page, request }, testInfo) => {
  const { url, got, server } = await receiver();
  const tag = `${testInfo.project.name}-${Date.now()}`;
  const name = `#db-oncall ${tag}`;
  try {
    await signIn(page, testInfo, ADMIN);
    await addChannel(page, testInfo, name, `${url}/services/pages`);
    await page.goto("/admin/alerting");
    await ready(page, testInfo);
    const form = page.getByRole("region", { name: "New alert rule" });
    await form.getByLabel("Name").fill(`Page DB ${tag}`);
    await form.getByLabel("Matchers").fill(`service="db-${tag}"`);
    await form.getByRole("checkbox", { name: /Declare an incident/ }).uncheck();
    await form.getByRole("checkbox", { name }).check();
    await form.getByRole("button", { name: "Add the rule" }).click();
    await expect(page.getByRole("listitem").filter({ hasText: `Page DB ${tag}` })).toContainText(`pages ${name} at once`);

    const res = await request.post("/api/v1/alerts", {
      headers: { Authorization: `Bearer ${process.env.E2E_ALERT_TOKEN}` },
      data: [{ source: "e2e-monitor", severity: "critical", summary: `Replica lag ${tag}`,
               labels: { alertname: "ReplicaLag", service: `db-${tag}`, instance: "db-1" } }],
    });
    expect(res.status(), await res.text()).toBe(202);
    await expect.poll(() => got.filter((r) => r.body.includes(`Replica lag ${tag}`)).length, { timeout: 15_000 }).toBe(1);
    const [paged] = got.filter((r) => r.body.includes(`Replica lag ${tag}`));
    expect(paged.body).toContain(`paged by “Page DB ${tag}”`);

    // The channel cannot be deleted while the rule pages through it.
    await page.goto("/admin/notifications");
    await ready(page, testInfo);
    const item = page.getByRole("listitem").filter({ hasText: name });
    await item.getByText("Delete…").click();
    await item.getByRole("button", { name: `Delete the channel ${name}` }).click();
    await expect(page.getByRole("alert").filter({ hasText: `“Page DB ${tag}”` })).toBeVisible();
  } finally {
    server.close();
  }
});

test("only admins reach the notification channels", async ({ page }, testInfo) => {
  await signIn(page, testInfo, COMMANDER);
  const res = await page.goto("/admin/notifications");
  expect(res?.status()).toBe(403);
  await expect(page.getByText("Only admins manage notification channels.")).toBeVisible();
});
