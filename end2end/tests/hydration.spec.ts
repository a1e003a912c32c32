// The WASM client hydrates every page without errors (a mismatch or panic shows in the console).
import { expect, test } from "@playwright/test";
import { ADMIN, isHydrated, ready, signIn } from "./helpers";

test("pages hydrate without console errors", async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo), "only meaningful with JavaScript on");
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  await signIn(page, testInfo, ADMIN);
  for (const path of ["/", "/incidents", "/actions", "/actions?mine=1&overdue=1", "/admin/users", "/account"]) {
    await page.goto(path);
    await ready(page, testInfo);
  }
  // Client-side navigation after hydration reaches the other pages too.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Plans" }).click();
  await expect(page.getByRole("heading", { name: "Plans" })).toBeVisible();
  expect(errors).toEqual([]);
});
