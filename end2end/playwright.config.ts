import { defineConfig } from "@playwright/test";

// Debian's Chromium (Playwright's own browser download is not available here). Without the
// background-networking flags Chromium floods a closed network with refused connections.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // One server, one database: tests run one at a time so their data never interleaves.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? "http://127.0.0.1:3917",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: chromiumArgs,
    },
    trace: "off",
  },
  projects: [
    // Server-rendered only: every page and form must work before (and without) hydration.
    { name: "no-js", use: { javaScriptEnabled: false } },
    // Hydrated: the WASM client takes over.
    { name: "hydrated", use: { javaScriptEnabled: true } },
  ],
});
