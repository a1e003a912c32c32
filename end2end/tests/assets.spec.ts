// The client's files: the WASM client's modules (the main module, its lazily loaded chunks and
// their loader, which load one another by relative names) in a directory named by the SHA-256 of
// everything in it, the stylesheet named by its own (so a change of content is a change of name),
// cached a year as immutable, served precompressed with the encoding the browser asks for; pages
// compressed too and never cached by a proxy.
import { createHash } from "node:crypto";
import { APIRequestContext, expect, test } from "@playwright/test";
import { COMMANDER, signIn } from "./helpers";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** The client files a page links: the stylesheet, the module and WASM, the page's chunks. */
async function linked(request: APIRequestContext, path: string) {
  const html = await (await request.get(path)).text();
  const css = [...html.matchAll(/href="(\/pkg\/nightwatch\.[0-9a-f]{20}\.css)"/g)].map((m) => m[1]);
  const client = [...new Set([...html.matchAll(/href="(\/pkg\/[0-9a-f]{20}\/[^"]+)"/g)].map((m) => m[1]))];
  expect(css).toHaveLength(1);
  const dirs = new Set(client.map((c) => c.split("/")[2]));
  expect(dirs.size, "one client directory").toBe(1);
  return { css: css[0], client, dir: `/pkg/${[...dirs][0]}` };
}

test("client files have content-hashed names, are cached as immutable and sent compressed", async ({ request }, testInfo) => {
  test.skip(testInfo.project.name !== "hydrated", "headers are the same in both projects");
  const { css, client, dir } = await linked(request, "/login");
  const names = client.map((c) => c.split("/").pop()!);
  expect(names).toContain("nightwatch.js");
  expect(names).toContain("nightwatch.wasm");
  // The page's own chunk is linked for the browser to fetch at once, with its loader.
  expect(names.some((n) => n.startsWith("__wasm_split.") && n.endsWith(".js")), names.join()).toBe(true);
  expect(names.filter((n) => n.endsWith(".wasm")).length, names.join()).toBeGreaterThan(1);

  const bodies = new Map<string, Buffer>();
  for (const path of [css, ...client]) {
    for (const encoding of ["br", "gzip"]) {
      const res = await request.get(path, { headers: { "Accept-Encoding": encoding } });
      expect(res.status(), path).toBe(200);
      expect(res.headers()["content-encoding"], `${path} ${encoding}`).toBe(encoding);
      expect(res.headers()["vary"]?.toLowerCase(), path).toContain("accept-encoding");
      expect(res.headers()["cache-control"], path).toBe("public, max-age=31536000, immutable");
    }
    const plain = await request.get(path, { headers: { "Accept-Encoding": "identity" } });
    expect(plain.headers()["content-encoding"], path).toBeUndefined();
    bodies.set(path, await plain.body());
  }
  expect(sha256(bodies.get(css)!).slice(0, 20), `${css} is named by its content`).toBe(css.split(".").at(-2));

  // The directory's name is the hash of the list of its files' hashes (`sha256sum *`): every
  // file of the client, read off the split manifest, which names each page's chunks.
  const manifest = await (await request.get(`${dir}/__wasm_split_manifest.json`)).json();
  const chunks = new Set<string>(Object.values(manifest as Record<string, string[]>).flat().map((c) => `${c}.wasm`));
  expect(chunks.size, "the client is split into chunks").toBeGreaterThan(10);
  const files = ["nightwatch.js", "nightwatch.wasm", "__wasm_split.______________________.js", "__wasm_split_manifest.json", ...chunks].sort();
  let list = "";
  for (const file of files) {
    const body = bodies.get(`${dir}/${file}`) ?? (await (await request.get(`${dir}/${file}`, { headers: { "Accept-Encoding": "identity" } })).body());
    list += `${sha256(body)}  ${file}\n`;
  }
  expect(sha256(list).slice(0, 20), `${dir} is named by its contents`).toBe(dir.split("/").pop());

  // The list of hashes itself is revalidated every time.
  const hashes = await request.get("/pkg/hash.txt");
  expect(hashes.headers()["cache-control"]).toBe("no-cache");
});

test("pages are gzipped when accepted and a proxy never keeps them", async ({ request }, testInfo) => {
  test.skip(testInfo.project.name !== "hydrated", "headers are the same in both projects");
  // Gzip whatever else is accepted: brotli on the fly costs more CPU than the bytes it saves.
  for (const accepted of ["gzip, deflate, br, zstd", "gzip"]) {
    const res = await request.get("/login", { headers: { "Accept-Encoding": accepted } });
    expect(res.headers()["content-encoding"]).toBe("gzip");
    expect(res.headers()["vary"]?.toLowerCase()).toContain("accept-encoding");
    expect(res.headers()["cache-control"]).toBe("no-cache, private");
    expect(await res.text()).toContain("Sign in");
  }
});

test("a page links its lazily loaded chunks, each once, on every load", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== "hydrated", "the links are the same in both projects");
  await signIn(page, testInfo, COMMANDER);
  for (const path of ["/incidents", "/board", "/plans"]) {
    const seen = new Set<string>();
    for (let load = 0; load < 8; load++) {
      const html = await (await page.request.get(path)).text();
      const wasm = [...html.matchAll(/<link [^>]*href="(\/pkg\/[0-9a-f]{20}\/[^"]+\.wasm)"/g)].map((m) => m[1]);
      expect(new Set(wasm).size, `${path}: no file linked twice`).toBe(wasm.length);
      expect(wasm.filter((w) => !w.endsWith("/nightwatch.wasm")).length, `${path}, load ${load}: its chunks`).toBeGreaterThan(0);
      seen.add(wasm.sort().join(" "));
    }
    expect(seen.size, `${path}: the same links on every load`).toBe(1);
  }
});
