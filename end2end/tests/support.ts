import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
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
  await page.getByLabel(/User ID|מזהה משתמש/).fill(login);
  await page.getByLabel(/^(Password|סיסמה)$/).fill(password);
  await page.locator("form[action='/api/sign_in'] button[type=submit]").click();
}
