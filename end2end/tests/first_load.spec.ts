import { expect, Page, test } from "@playwright/test";
import { waitHydrated } from "./support";

/**
 * The first-load budget (issue 12): what a browser downloads to show and
 * hydrate /reset or /sign-in on its first visit — HTML, JS, wasm (and the
 * wasm chunk of that page), CSS, headers included — as the server sends it.
 * Measured on the wire by Chromium (DevTools `encodedDataLength`), so a
 * missing `Content-Encoding` or an extra download shows up here.
 */
const BUDGET = 250_000;

type Transfer = { url: string; bytes: number; encoding: string; cached: boolean };

/** Loads `path` in a fresh page of `page`'s context and lists every transfer until hydrated and idle. */
async function load(page: Page, path: string): Promise<Transfer[]> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const seen = new Map<string, Transfer>();
  // Chromium says "served from cache" before it reports the response.
  const fromCache = new Set<string>();
  cdp.on("Network.requestServedFromCache", (e) => {
    fromCache.add(e.requestId);
  });
  cdp.on("Network.responseReceived", (e) => {
    const h = e.response.headers;
    seen.set(e.requestId, {
      url: new URL(e.response.url).pathname,
      bytes: 0,
      encoding: h["content-encoding"] ?? h["Content-Encoding"] ?? "identity",
      cached: fromCache.has(e.requestId) || e.response.fromDiskCache || e.response.fromMemoryCache || false,
    });
  });
  cdp.on("Network.loadingFinished", (e) => {
    const t = seen.get(e.requestId);
    if (t) t.bytes = e.encodedDataLength;
  });
  await page.goto(path);
  await waitHydrated(page);
  await page.waitForLoadState("networkidle");
  await cdp.detach();
  return [...seen.values()];
}

function report(path: string, transfers: Transfer[]): number {
  const total = transfers.reduce((s, t) => s + t.bytes, 0);
  const lines = transfers.map((t) => `  ${t.bytes.toString().padStart(8)} B  ${t.encoding.padEnd(8)} ${t.url}`);
  console.log(`first load of ${path}: ${total} B\n${lines.join("\n")}`);
  return total;
}

for (const path of ["/reset", "/sign-in"]) {
  test(`the first load of ${path} stays within ${BUDGET} bytes, compressed`, async ({ browser }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const transfers = await load(page, path);
    const total = report(path, transfers);
    const wasm = transfers.filter((t) => t.url.endsWith(".wasm"));
    expect(wasm.length, "the page hydrates from wasm").toBeGreaterThan(0);
    expect(transfers.filter((t) => /^\/pkg\/sspr\.[\w-]+\.css$/.test(t.url)).length, "the hashed stylesheet").toBe(1);
    for (const t of transfers.filter((t) => t.url.startsWith("/pkg/"))) {
      expect(t.encoding, `${t.url} is sent compressed`).toBe("br");
    }
    console.log(`budget ${BUDGET} B: ${total <= BUDGET ? `${BUDGET - total} B to spare` : `${total - BUDGET} B over`}`);
    expect(total, `first load of ${path} (see the list above)`).toBeLessThanOrEqual(BUDGET);
    await context.close();
  });
}

test("a later page downloads only its own chunks: hashed names are cached as immutable", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const first = await load(page, "/sign-in");
  const second = await load(page, "/reset");
  report("/reset after /sign-in", second);
  const before = new Set(first.filter((t) => t.url.startsWith("/pkg/")).map((t) => t.url));
  const assets = second.filter((t) => t.url.startsWith("/pkg/"));
  expect(assets.length).toBeGreaterThan(0);
  for (const t of assets) {
    if (before.has(t.url)) {
      expect(t.cached, `${t.url} came again (${t.bytes} B)`).toBe(true);
    } else {
      // Only code /sign-in did not need: the chunks of the reset pages.
      expect(t.url, `${t.url} is not a page chunk`).toMatch(/^\/pkg\/(chunk_|split_)/);
    }
  }
  await context.close();
});
