import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, Page } from "@playwright/test";

/** A user ID no other test uses. */
export function uniqueLogin(prefix = "e2e"): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
}

/**
 * Creates an account through the real CLI (`sspr user add` / `sspr admin
 * create`) against the database the server under test uses, and returns
 * its password.
 */
export function createUser(login: string, opts: { admin?: boolean; name?: string } = {}): string {
  const bin = process.env.E2E_SSPR_BIN;
  if (!bin) throw new Error("E2E_SSPR_BIN must name the sspr binary (the test command sets it)");
  const password = `e2e-${randomBytes(12).toString("hex")}`;
  const args = [
    ...(opts.admin ? ["admin", "create"] : ["user", "add"]),
    login,
    "--name",
    opts.name ?? `${login} Tester`,
    "--email",
    `${login}@contoso.example`,
    "--password-stdin",
  ];
  const r = spawnSync(bin, args, { input: `${password}\n`, encoding: "utf8", env: process.env });
  if (r.status !== 0) throw new Error(`sspr ${args.join(" ")} failed: ${r.stderr}`);
  return password;
}

/** Collects console errors (CSP violations show up there) and page errors. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/** Waits until the wasm app has hydrated the server-rendered page. */
export async function waitHydrated(page: Page) {
  await expect(page.locator(".page[data-hydrated=true]")).toBeAttached();
}

export async function signIn(page: Page, login: string, password: string) {
  // By name, not label: the journeys run in eleven languages.
  await page.locator("form[action='/api/sign_in'] input[name=login]").fill(login);
  await page.locator("form[action='/api/sign_in'] input[name=password]").fill(password);
  await page.locator("form[action='/api/sign_in'] button[type=submit]").click();
}

/**
 * Signs an administrator (as made by `registered`) in to the admin portal:
 * password, then the second factor by the code mailed to home.example.
 * `lang` pins the pages' language; `js` waits for hydration first.
 */
export async function adminSignIn(page: Page, admin: Person, lang: string, js = true) {
  await page.goto(`/sign-in?lang=${lang}&next=%2Fadmin`);
  if (js) await waitHydrated(page);
  await signIn(page, admin.login, admin.password);
  await expect(page).toHaveURL(/\/sign-in\/verify$/);
  await page.locator("form[action='/api/sign_in_choose']", { hasText: "home.example" }).locator("button").click();
  await expect(page).toHaveURL(/\/sign-in\/code$/);
  await page.locator("#code").fill(await codeFromOutbox(page, admin.email));
  await page.locator("form[action='/api/sign_in_verify'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/admin$/);
}

/** The newest verification code sent to `recipient`, read from /dev/outbox. */
export async function codeFromOutbox(page: Page, recipient: string): Promise<string> {
  const outbox = await page.context().newPage();
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      await outbox.goto("/dev/outbox");
      const row = outbox.locator("tr", { has: outbox.locator("td.recipient", { hasText: recipient }) }).first();
      if ((await row.count()) > 0) {
        const body = (await row.locator("pre.body").textContent()) ?? "";
        const m = body.match(/\b(\d{6,8})\b/);
        if (m) return m[1];
      }
      await outbox.waitForTimeout(250);
    }
    throw new Error(`no code for ${recipient} on /dev/outbox`);
  } finally {
    await outbox.close();
  }
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from the base32 key the page shows. */
export function totp(base32Key: string, at = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32Key.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`bad base32 character ${c}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const { createHmac } = require("node:crypto") as typeof import("node:crypto");
  const h = createHmac("sha1", bytes).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return ((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).toString().padStart(6, "0");
}

/** A mobile number no other test uses (each destination has an hourly send limit). */
export function uniqueMobile(): { national: string; e164: string } {
  // 050-2xx-xxxx: an Israeli mobile range (0501… is not one).
  const n = Math.floor(Math.random() * 1_000_000).toString().padStart(6, "0");
  return { national: `0502${n}`, e164: `+972502${n}` };
}

/** New accounts are sent to the registration wizard at sign-in; tests about
 *  other pages postpone it with "Ask me later". */
export async function skipRegistration(page: Page) {
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await page.locator("form[action='/api/setup_skip'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/account$/);
}

/**
 * Merges `changes` into the policy in force, through the real CLI
 * (`sspr policy show` / `sspr policy set`). The policy is shared by every
 * test, so only additive changes belong here.
 */
export function updatePolicy(changes: Record<string, unknown>) {
  const bin = process.env.E2E_SSPR_BIN;
  if (!bin) throw new Error("E2E_SSPR_BIN must name the sspr binary (the test command sets it)");
  const shown = spawnSync(bin, ["policy", "show"], { encoding: "utf8", env: process.env });
  if (shown.status !== 0) throw new Error(`sspr policy show failed: ${shown.stderr}`);
  const policy = { ...JSON.parse(shown.stdout), ...changes };
  const file = join(mkdtempSync(join(tmpdir(), "sspr-policy-")), "policy.json");
  writeFileSync(file, JSON.stringify(policy));
  const set = spawnSync(bin, ["policy", "set", file], { encoding: "utf8", env: process.env });
  if (set.status !== 0) throw new Error(`sspr policy set failed: ${set.stderr}`);
}

export type Person = { login: string; password: string; email: string; totpKey?: string };

/** A user who registered a home email (and, for admins, an authenticator app) through the wizard. */
export async function registered(page: Page, opts: { admin?: boolean } = {}): Promise<Person> {
  const login = uniqueLogin(opts.admin ? "radm" : "rst");
  const password = createUser(login, { admin: opts.admin });
  const email = `${login}@home.example`;
  await page.goto("/sign-in");
  await waitHydrated(page);
  await signIn(page, login, password);
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await page.locator("a[href='/security-info/setup/email']").click();
  await page.locator("#address").fill(email);
  await page.locator("form[action='/api/setup_email'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup\/verify$/);
  await page.locator("#code").fill(await codeFromOutbox(page, email));
  await page.locator("form[action='/api/setup_verify'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  let totpKey: string | undefined;
  if (opts.admin) {
    await page.locator("a[href='/security-info/setup/app']").click();
    totpKey = (await page.getByTestId("totp-key").textContent())?.trim() ?? "";
    await page.locator("#code").fill(totp(totpKey));
    await page.locator("form[action='/api/setup_authenticator_verify'] button[type=submit]").click();
    await expect(page).toHaveURL(/\/security-info\/setup$/);
  }
  await page.locator("form[action='/api/setup_finish'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info$/);
  return { login, password, email, totpKey };
}

/** Step 1 from the sign-in page's link. */
export async function beginReset(page: Page, login: string, lang: string, js: boolean) {
  await page.goto(`/sign-in?lang=${lang}`);
  if (js) await waitHydrated(page);
  await page.locator("a[href='/reset']").click();
  await expect(page).toHaveURL(/\/reset$/);
  if (js) {
    await waitHydrated(page);
    // The proof of work solves itself in the background.
    await expect(page.locator(".captcha-status")).toHaveAttribute("data-solved", "true");
  } else {
    // Without JavaScript the page says what happens instead of the check.
    await expect(page.locator(".captcha-status")).toContainText("JavaScript");
  }
  await page.locator("#login").fill(login);
  await page.locator("form[action='/api/reset_start'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/reset\/verify$/);
}

export async function emailGate(page: Page, email: string) {
  await page.locator("#address").fill(email);
  await page.locator("form[action='/api/reset_email'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/reset\/code$/);
  await expect(page.locator("#code")).toHaveAttribute("autocomplete", "one-time-code");
  await page.locator("#code").fill(await codeFromOutbox(page, email));
  await page.locator("form[action='/api/reset_verify'] button[type=submit]").click();
}

