import { expect, Page, test } from "@playwright/test";
import { waitHydrated } from "./support";

/**
 * The first-load budget (issue 12): what a browser downloads to show and
 * hydrate /reset or /sign-in on its first visit — HTML, JS, wasm (and the
 * wasm chunk of that page), CSS, headers included — as the server sends it.
 * Measured on the wire by Chromium (DevTools `encodedDataLength`), so a
 * missing `Content-Encoding` or an extra download shows up here.
 */
// 250 000 B until issue 14. Eleven languages, each loaded only by its own
// pages, cost ~20 KB here: leptos_i18n's per-language loader makes every
// text an async accessor over the eleven in the wasm (+9 KB against English
// alone), and the page's catalog comes as a file of its own (~6 KB for
// English, cached once fetched). Compiled in, the ten other catalogs would
// be ~90 KB.
const BUDGET = 275_000;

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

/** Files named by their content: the build's and the language catalogs. */
function isBuildFile(url: string): boolean {
  return url.startsWith("/pkg/") || url.startsWith("/i18n/");
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
    for (const t of transfers.filter((t) => isBuildFile(t.url))) {
      expect(t.encoding, `${t.url} is sent compressed`).toBe("br");
    }
    // The page's language only: one catalog, none of the other ten.
    expect(transfers.filter((t) => t.url.startsWith("/i18n/")).map((t) => t.url)).toEqual([
      expect.stringMatching(/^\/i18n\/en\.[0-9a-f]{22}\.js$/),
    ]);
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
  const before = new Set(first.filter((t) => isBuildFile(t.url)).map((t) => t.url));
  const assets = second.filter((t) => isBuildFile(t.url));
  expect(assets.length).toBeGreaterThan(0);
  for (const t of assets) {
    if (before.has(t.url)) {
      // The catalog included: the same language, the same file.
      expect(t.cached, `${t.url} came again (${t.bytes} B)`).toBe(true);
    } else {
      // Only code /sign-in did not need: the chunks of the reset pages.
      expect(t.url, `${t.url} is not a page chunk`).toMatch(/^\/pkg\/(chunk_|split_)/);
    }
  }
  await context.close();
});

test("a page in another language downloads that language's catalog only", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const tag of ["ja-JP", "ar"]) {
    const transfers = await load(page, `/reset?lang=${tag}`);
    const catalogs = transfers.filter((t) => t.url.startsWith("/i18n/"));
    expect(catalogs.map((t) => t.url)).toEqual([expect.stringMatching(new RegExp(`^/i18n/${tag}\\.[0-9a-f]{22}\\.js$`))]);
    expect(catalogs[0].encoding).toBe("br");
  }
  await context.close();
});
