// Measures an incident page's first load as a browser on a bank's VPN sees it: Chromium with its
// network throttled to 10 Mbit/s down, 5 Mbit/s up and 40 ms round trips, and its CPU slowed 4x.
// For each of RUNS cold loads (a new browser profile, nothing cached) it counts the bytes that
// crossed the wire (compressed, as Chromium reports them, headers included) by kind, and times
// first paint and "interactive": the moment the WASM client has hydrated the page (the app sets
// `data-hydrated` on <html> from its first effect; a MutationObserver installed before any page
// script records performance.now() then). Then it loads the page again in the same profile and
// counts what was downloaded again (a repeat visit should fetch no WASM, JS or CSS).
//
// Usage: node scripts/first-load.mjs BASE_URL USERNAME PASSWORD PATH [RUNS]
// (scripts/first-load.sh starts a release server with demo data and runs it.)
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("../end2end/node_modules/playwright-core");

const [base, username, password, path, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"],
});

async function signedInState() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
  const state = await context.storageState();
  await context.close();
  return state;
}

function kindOf(url, mime) {
  if (url.endsWith(".wasm")) return "wasm";
  if (url.endsWith(".js")) return "js";
  if (url.endsWith(".css")) return "css";
  if (mime?.startsWith("text/html")) return "html";
  return "other";
}

/** Loads `path` in `page` and returns bytes by kind, first paint and interactive (ms). */
async function load(page, cdp) {
  const requests = new Map();
  const bytes = { html: 0, js: 0, wasm: 0, css: 0, other: 0 };
  const cached = [];
  cdp.on("Network.responseReceived", (e) => {
    requests.set(e.requestId, { url: e.response.url, mime: e.response.mimeType });
    if (e.response.fromDiskCache || e.response.fromMemoryCache) cached.push(e.response.url);
  });
  cdp.on("Network.requestServedFromCache", (e) => cached.push(requests.get(e.requestId)?.url ?? e.requestId));
  cdp.on("Network.loadingFinished", (e) => {
    const r = requests.get(e.requestId);
    if (r) bytes[kindOf(new URL(r.url).pathname, r.mime)] += e.encodedDataLength;
  });
  await page.goto(`${base}${path}`, { waitUntil: "load" });
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60_000 });
  // Let late requests finish and their byte counts arrive.
  await page.waitForTimeout(500);
  const timing = await page.evaluate(() => ({
    paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
    interactive: window.__hydratedAt,
  }));
  cdp.removeAllListeners();
  return { bytes, cached, ...timing };
}

const state = await signedInState();
const results = [];
let repeat;
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ storageState: state, viewport: { width: 1366, height: 768 } });
  await context.addInitScript(() => {
    // The document exists before its <html> element does: watch the whole tree for the mark.
    new MutationObserver(() => {
      if (document.documentElement?.dataset.hydrated && window.__hydratedAt === undefined) {
        window.__hydratedAt = performance.now();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 40,
    downloadThroughput: (10 * 1_000_000) / 8,
    uploadThroughput: (5 * 1_000_000) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  results.push(await load(page, cdp));
  if (i === runs - 1) repeat = await load(page, cdp);
  await context.close();
}
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const first = results[0].bytes;
const total = (b) => b.html + b.js + b.wasm + b.css + b.other;
console.log(`page ${path}, ${runs} cold loads at 10 Mbit/s, 40 ms RTT, CPU 4x slower`);
console.log(`bytes on the wire (cold): html ${kb(first.html)}, js ${kb(first.js)}, wasm ${kb(first.wasm)}, css ${kb(first.css)}, other ${kb(first.other)}; total ${kb(total(first))}`);
console.log(`first contentful paint: median ${median(results.map((r) => r.paint)).toFixed(0)} ms (${results.map((r) => r.paint.toFixed(0)).join(", ")})`);
console.log(`interactive (hydrated): median ${median(results.map((r) => r.interactive)).toFixed(0)} ms (${results.map((r) => r.interactive.toFixed(0)).join(", ")})`);
const again = repeat.bytes;
console.log(`repeat visit: downloaded again html ${kb(again.html)}, js ${kb(again.js)}, wasm ${kb(again.wasm)}, css ${kb(again.css)}; from cache: ${repeat.cached.filter((u) => /\.(js|wasm|css)$/.test(u)).length} client files`);
