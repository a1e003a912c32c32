// The client's files: content-hashed names (a name's hash is the SHA-256 of what it serves, so a
// change of content is a change of name), cached a year as immutable, served precompressed with
// the encoding the browser asks for; pages compressed too and never cached by a proxy.
import { createHash } from "node:crypto";
import { APIRequestContext, expect, test } from "@playwright/test";

/** The client files a page links: the module, the WASM and the stylesheet. */
async function linked(request: APIRequestContext): Promise<string[]> {
  const html = await (await request.get("/login")).text();
  const names = [...html.matchAll(/href="(\/pkg\/nightwatch\.[^"]+\.(?:js|wasm|css))"/g)].map((m) => m[1]);
  expect(names.map((n) => n.split(".").pop()).sort()).toEqual(["css", "js", "wasm"]);
  return names;
}

test("client files have content-hashed names, are cached as immutable and sent compressed", async ({ request }, testInfo) => {
  test.skip(testInfo.project.name !== "hydrated", "headers are the same in both projects");
  for (const path of await linked(request)) {
    const hash = path.split(".").at(-2)!;
    expect(hash, path).toMatch(/^[0-9a-f]{20}$/);
    for (const encoding of ["br", "gzip"]) {
      const res = await request.get(path, { headers: { "Accept-Encoding": encoding } });
      expect(res.status(), path).toBe(200);
      expect(res.headers()["content-encoding"], `${path} ${encoding}`).toBe(encoding);
      expect(res.headers()["vary"]?.toLowerCase(), path).toContain("accept-encoding");
      expect(res.headers()["cache-control"], path).toBe("public, max-age=31536000, immutable");
      const body = await res.body();
      expect(createHash("sha256").update(body).digest("hex").slice(0, 20), `${path} is named by its content`).toBe(hash);
    }
    const plain = await request.get(path, { headers: { "Accept-Encoding": "identity" } });
    expect(plain.headers()["content-encoding"], path).toBeUndefined();
  }
  // The list of hashes itself is revalidated every time.
  const list = await request.get("/pkg/hash.txt");
  expect(list.headers()["cache-control"]).toBe("no-cache");
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
