import { expect, Page, test } from "@playwright/test";
import {
  beginReset,
  codeFromOutbox,
  createUser,
  emailGate,
  type Person,
  registered,
  signIn,
  totp,
  uniqueLogin,
  uniqueMobile,
  updatePolicy,
  waitHydrated,
  watchConsole,
} from "./support";

const NEW = "mauve tractor under the lighthouse";

/** A user who registered only a mobile phone (by text message) through the wizard. */
async function registeredPhone(page: Page): Promise<Person & { mobile: { national: string; e164: string } }> {
  const login = uniqueLogin("rph");
  const password = createUser(login);
  const mobile = uniqueMobile();
  await page.goto("/sign-in");
  await waitHydrated(page);
  await signIn(page, login, password);
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await page.locator("a[href='/security-info/setup/phone']").click();
  await page.locator("#region").selectOption("IL");
  await page.locator("#number").fill(mobile.national);
  await page.locator("form[action='/api/setup_phone'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup\/verify$/);
  await page.locator("#code").fill(await codeFromOutbox(page, mobile.e164));
  await page.locator("form[action='/api/setup_verify'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await page.locator("form[action='/api/setup_finish'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info$/);
  return { login, password, email: "", mobile };
}

/** The phone gate: country, number, text message, then the code sent to the number. */
async function phoneGate(page: Page, mobile: { national: string; e164: string }) {
  await page.locator("#region").selectOption("IL");
  await page.locator("#number").fill(mobile.national);
  await expect(page.locator("input[name=channel][value=sms]")).toBeChecked();
  await page.locator("form[action='/api/reset_phone'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/reset\/code$/);
  await expect(page.locator("#code")).toHaveAttribute("autocomplete", "one-time-code");
  await page.locator("#code").fill(await codeFromOutbox(page, mobile.e164));
  await page.locator("form[action='/api/reset_verify'] button[type=submit]").click();
}

async function newPassword(page: Page, js: boolean) {
  await expect(page).toHaveURL(/\/reset\/password$/);
  if (js) {
    await waitHydrated(page);
    await page.locator("#new_password").fill("short");
    await expect(page.locator("li[data-rule=too_short]")).toHaveAttribute("data-state", "unmet");
  }
  await page.locator("#new_password").fill(NEW);
  await page.locator("#confirm_password").fill(NEW);
  if (js) await expect(page.locator("li[data-rule=common]")).toHaveAttribute("data-state", "met");
  await page.locator("form[action='/api/reset_password'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/reset\/done$/);
}

/** The old session is gone and the new password signs in. */
async function afterwards(page: Page, person: Person) {
  await page.goto("/account");
  await expect(page).toHaveURL(/\/sign-in/);
  await signIn(page, person.login, NEW);
  if (person.totpKey) {
    // An admin's sign-in asks for a second factor (docs/security.md #82):
    // no session yet, a choice of the registered methods, then the code.
    await expect(page).toHaveURL(/\/sign-in\/verify$/);
    await expect(page.locator("form[action='/api/sign_in_choose']")).toHaveCount(2);
    await page.locator("form[action='/api/sign_in_choose']", { hasText: "home.example" }).locator("button").click();
    await expect(page).toHaveURL(/\/sign-in\/code$/);
    await expect(page.locator("#code")).toHaveAttribute("autocomplete", "one-time-code");
    await expect(page.locator("#code")).toBeFocused();
    await page.locator("#code").fill(await codeFromOutbox(page, person.email));
    await page.locator("form[action='/api/sign_in_verify'] button[type=submit]").click();
  }
  await expect(page).toHaveURL(/\/(account|security-info\/setup)$/);
}

type Lang = "en" | "he-IL";

/** "Verification 1 of 2" as the page says it. */
function progress(lang: Lang, current: number, total: number): string {
  return lang === "en" ? `Verification ${current} of ${total}` : `אימות ${current} מתוך ${total}`;
}

for (const lang of ["en", "he-IL"] as const) {
  test.describe(`with JavaScript (${lang})`, () => {
    test("one gate (email)", async ({ page }) => {
      const problems = watchConsole(page);
      const person = await registered(page);
      await beginReset(page, person.login, lang, true);
      await expect(page.locator("html")).toHaveAttribute("dir", lang === "en" ? "ltr" : "rtl");
      await expect(page.getByText(progress(lang, 1, 1))).toBeVisible();
      await emailGate(page, person.email);
      await newPassword(page, true);
      await afterwards(page, person);
      expect(problems.filter((p) => !p.includes("status of 4"))).toEqual([]);
    });

    test("one gate (phone, by text message)", async ({ page }) => {
      const problems = watchConsole(page);
      const person = await registeredPhone(page);
      await beginReset(page, person.login, lang, true);
      await expect(page.getByText(progress(lang, 1, 1))).toBeVisible();
      await phoneGate(page, person.mobile);
      await newPassword(page, true);
      await afterwards(page, person);
      expect(problems.filter((p) => !p.includes("status of 4"))).toEqual([]);
    });

    test("two gates (email + authenticator) for an admin", async ({ page }) => {
      const person = await registered(page, { admin: true });
      await beginReset(page, person.login, lang, true);
      // Like any account until a gate is passed: the second gate would
      // tell anyone that the ID names an admin (docs/security.md #72).
      await expect(page.getByText(progress(lang, 1, 1))).toBeVisible();
      await emailGate(page, person.email);
      // Back on the gate page: email is spent, the app is next; never questions.
      await expect(page).toHaveURL(/\/reset\/verify$/);
      await expect(page.getByText(progress(lang, 2, 2))).toBeVisible();
      await expect(page.locator("form[action='/api/reset_email']")).toHaveCount(0);
      await expect(page.locator("form[action='/api/reset_questions']")).toHaveCount(0);
      await expect(page.locator("#gate-app")).toBeVisible();
      await page.locator("form[action='/api/reset_authenticator'] button").click();
      await expect(page).toHaveURL(/\/reset\/code$/);
      await page.locator("#code").fill(totp(person.totpKey ?? "", Date.now() + 30_000));
      await page.locator("form[action='/api/reset_verify'] button[type=submit]").click();
      await newPassword(page, true);
      await afterwards(page, person);
    });

    test("an unknown user sees the same pages", async ({ page }) => {
      await beginReset(page, uniqueLogin("ghost"), lang, true);
      await expect(page.getByText(progress(lang, 1, 1))).toBeVisible();
      await page.locator("#address").fill("ghost@home.example");
      await page.locator("form[action='/api/reset_email'] button[type=submit]").click();
      await expect(page).toHaveURL(/\/reset\/code$/);
      await page.locator("#code").fill("12345678");
      await page.locator("form[action='/api/reset_verify'] button[type=submit]").click();
      await expect(page.getByRole("alert").locator("[data-code=wrong_code]")).toBeVisible();
    });

    test("a throttled user is told to wait or use another method", async ({ page }) => {
      const person = await registered(page);
      await beginReset(page, person.login, lang, true);
      for (let i = 0; i < 6; i++) {
        await page.goto("/reset/verify");
        await waitHydrated(page);
        await page.locator("form[action='/api/reset_authenticator'] button").click();
        await expect(page).toHaveURL(/\/reset\/code$/);
        await waitHydrated(page);
        await page.locator("#code").fill("000000");
        await page.locator("form[action='/api/reset_verify'] button[type=submit]").click();
        await expect(page.getByRole("alert").locator("[data-code]")).toBeVisible();
      }
      const blocked = page.getByRole("alert").locator("[data-code=method_blocked]");
      await expect(blocked).toBeVisible();
      // Said in the page's language.
      await expect(blocked).toHaveText(lang === "en" ? /^[^\u0590-\u05FF]+$/ : /[\u0590-\u05FF]/);
      // Email still works.
      await page.goto("/reset/verify");
      await emailGate(page, person.email);
      await expect(page).toHaveURL(/\/reset\/password$/);
    });
  });
}

test("the help desk is on the reset pages, reached by a link or loaded", async ({ page }) => {
  const desk = "help@contoso.example";
  updatePolicy({ helpdesk_contact: desk });
  // The server applies a policy saved elsewhere within a second.
  await expect(async () => {
    await page.goto("/sign-in");
    await expect(page.locator("meta[name=sspr-helpdesk]")).toHaveAttribute("content", desk, { timeout: 100 });
  }).toPass();
  await waitHydrated(page);
  // A client-side navigation (the same document, so the mark stays): the
  // page takes the contact from the document's head.
  await page.evaluate(() => ((window as unknown as { mark: number }).mark = 1));
  await page.locator("a[href='/reset']").click();
  await expect(page).toHaveURL(/\/reset$/);
  await expect(page.locator(".helpdesk a")).toHaveAttribute("href", `mailto:${desk}`);
  expect(await page.evaluate(() => (window as unknown as { mark?: number }).mark)).toBe(1);
  await page.reload();
  await expect(page.locator(".helpdesk a")).toHaveAttribute("href", `mailto:${desk}`);
});

test("when the CAPTCHA puzzle cannot be fetched, the failure is announced and the form stays usable", async ({
  page,
}) => {
  await page.route("**/api/reset_challenge", (route) => route.abort("failed"));
  await page.goto("/reset");
  await waitHydrated(page);
  // The CAPTCHA's own alert, inside the step's form (the page's alert is above it).
  const form = page.locator("form[action='/api/reset_start']");
  await expect(form.locator("[role=alert] .alert-error")).toHaveAttribute("data-code", "network");
  await expect(form.locator(".captcha-status")).toHaveAttribute("data-solved", "false");
  // Nothing is disabled: the step is taken without a solution, as without
  // JavaScript (its per-address limit is not spent here).
  await expect(form.locator("#login")).toBeEditable();
  await expect(form.locator("button[type=submit]")).toBeEnabled();
});

test("each reset step asks the server once; the help desk comes with the document", async ({ page }) => {
  const person = await registered(page);
  let calls: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/api/")) calls.push(path);
  });
  // What a step fetched to show itself: everything since `act`, but the
  // form post that led there. A client-side navigation has no load state
  // to wait for, and a lazy page loads its chunk before its data: wait
  // until the step's own field is on the page.
  const step = async (act: () => Promise<void>, url: RegExp, post?: string, ready?: string) => {
    calls = [];
    await act();
    await expect(page).toHaveURL(url);
    if (ready) await expect(page.locator(ready)).toBeVisible();
    await page.waitForLoadState("networkidle");
    return calls.filter((c) => c !== post);
  };
  await page.goto("/sign-in");
  await waitHydrated(page);
  const entry = await step(() => page.locator("a[href='/reset']").click(), /\/reset$/);
  // The CAPTCHA's puzzle, asked for once hydrated; nothing for the help desk.
  expect(entry).toEqual(["/api/reset_challenge"]);
  await expect(page.locator(".captcha-status")).toHaveAttribute("data-solved", "true");
  await page.locator("#login").fill(person.login);
  const verify = await step(
    () => page.locator("form[action='/api/reset_start'] button[type=submit]").click(),
    /\/reset\/verify$/,
    "/api/reset_start",
    "#address",
  );
  expect(verify).toEqual(["/api/reset_state"]);
  await page.locator("#address").fill(person.email);
  const code = await step(
    () => page.locator("form[action='/api/reset_email'] button[type=submit]").click(),
    /\/reset\/code$/,
    "/api/reset_email",
    "#code",
  );
  expect(code).toEqual(["/api/reset_state"]);
  await page.locator("#code").fill(await codeFromOutbox(page, person.email));
  const password = await step(
    () => page.locator("form[action='/api/reset_verify'] button[type=submit]").click(),
    /\/reset\/password$/,
    "/api/reset_verify",
    "#new_password",
  );
  expect(password).toEqual(["/api/reset_password_view"]);
});

test("a locked-out user who knows the password unlocks without changing it", async ({ page }) => {
  const person = await registered(page);
  await page.goto("/account");
  await page.locator("form[action='/api/sign_out'] button").click();
  await expect(page).toHaveURL(/\/sign-in/);
  await waitHydrated(page);
  for (let i = 0; i < 10; i++) {
    await signIn(page, person.login, `not the password ${i}`);
    await expect(page.getByRole("alert").locator("[data-code=invalid_credentials]")).toBeVisible();
  }
  await signIn(page, person.login, person.password);
  await expect(page.getByRole("alert").locator("[data-code=invalid_credentials]")).toBeVisible();
  await beginReset(page, person.login, "en", true);
  await emailGate(page, person.email);
  await expect(page).toHaveURL(/\/reset\/password$/);
  await page.locator("form[action='/api/reset_unlock'] button").click();
  await expect(page).toHaveURL(/\/reset\/unlocked$/);
  await page.goto("/sign-in");
  await waitHydrated(page);
  await signIn(page, person.login, person.password);
  await expect(page).toHaveURL(/\/(account|security-info)/);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("one gate (phone) (he-IL)", async ({ page, browser }) => {
    const helper = await (await browser.newContext({ javaScriptEnabled: true })).newPage();
    const person = await registeredPhone(helper);
    await helper.context().close();
    await beginReset(page, person.login, "he-IL", false);
    await phoneGate(page, person.mobile);
    await newPassword(page, false);
    await page.goto("/sign-in");
    await signIn(page, person.login, NEW);
    await expect(page).toHaveURL(/\/(account|security-info\/setup)$/);
  });
  for (const lang of ["en", "he-IL"] as const) {
    test(`one gate (email) (${lang})`, async ({ page, browser }) => {
      // Registration with JavaScript in another context; the reset without.
      const helper = await (await browser.newContext({ javaScriptEnabled: true })).newPage();
      const person = await registered(helper);
      await beginReset(page, person.login, lang, false);
      await expect(page.getByText(progress(lang, 1, 1))).toBeVisible();
      await emailGate(page, person.email);
      await newPassword(page, false);
      // The helper's session was signed out by the reset.
      await helper.goto("/account");
      await expect(helper).toHaveURL(/\/sign-in/);
      await helper.context().close();
      await page.goto("/sign-in");
      await signIn(page, person.login, NEW);
      await expect(page).toHaveURL(/\/(account|security-info\/setup)$/);
    });
  }
});
