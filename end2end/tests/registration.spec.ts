import { expect, Page, test } from "@playwright/test";
import { codeFromOutbox, createUser, signIn, totp, uniqueLogin, uniqueMobile, waitHydrated, watchConsole } from "./support";

/** The whole registration journey; `js` says whether the page hydrates. */
async function journey(page: Page, lang: "en" | "he-IL", js: boolean) {
  const login = uniqueLogin("reg");
  const password = createUser(login);
  const email = `${login}@home.example`;
  const mobile = uniqueMobile();
  const t = lang === "en"
    ? { more: "More information required", verify: "Enter the code", myInfo: "My security info" }
    : { more: "נדרש מידע נוסף", verify: "הזנת הקוד", myInfo: "פרטי האבטחה שלי" };

  await page.goto(`/sign-in?lang=${lang}`);
  if (js) await waitHydrated(page);
  await signIn(page, login, password);
  // Signing in without security info interrupts with the wizard.
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await expect(page.getByRole("heading", { name: t.more })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("dir", lang === "en" ? "ltr" : "rtl");

  // Email.
  await page.locator("a[href='/security-info/setup/email']").click();
  await page.locator("#address").fill(email);
  await page.locator("form[action='/api/setup_email'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup\/verify$/);
  await expect(page.getByRole("heading", { name: t.verify })).toBeVisible();
  await expect(page.locator("#code")).toHaveAttribute("autocomplete", "one-time-code");
  const emailCode = await codeFromOutbox(page, email);
  await page.locator("#code").fill(emailCode);
  await page.locator("form[action='/api/setup_verify'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup$/);

  // Mobile phone by text message.
  await page.locator("a[href='/security-info/setup/phone']").click();
  await page.locator("#region").selectOption("IL");
  await page.locator("#number").fill(mobile.national);
  await page.locator("form[action='/api/setup_phone'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup\/verify$/);
  // A wrong code first: the error is announced and the page stays.
  await page.locator("#code").fill("000000");
  await page.locator("form[action='/api/setup_verify'] button[type=submit]").click();
  await expect(page.getByRole("alert").locator("[data-code]")).toBeVisible();
  const smsCode = await codeFromOutbox(page, mobile.e164);
  await page.locator("#code").fill(smsCode);
  await page.locator("form[action='/api/setup_verify'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup$/);

  // Authenticator app: the test computes the TOTP from the key shown as text.
  await page.locator("a[href='/security-info/setup/app']").click();
  const key = (await page.getByTestId("totp-key").textContent())?.trim() ?? "";
  expect(key).toMatch(/^[A-Z2-7]{32}$/);
  await page.locator("#code").fill(totp(key));
  await page.locator("form[action='/api/setup_authenticator_verify'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup$/);

  // Finish, then My security info lists all three, masked.
  await page.locator("form[action='/api/setup_finish'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info$/);
  await expect(page.getByRole("heading", { name: t.myInfo })).toBeVisible();
  const methods = page.locator("ul.methods > li");
  await expect(methods).toHaveCount(3);
  await expect(page.locator("li[data-kind=email] .destination")).toHaveText(`${login.slice(0, 2)}***@home.example`);
  await expect(page.locator("li[data-kind=phone] .destination")).toHaveText(/^\*+\d\d$/);

  // Delete the phone.
  await page.locator("li[data-kind=phone] form[action='/api/security_info_delete'] button").click();
  await expect(page.locator("ul.methods > li")).toHaveCount(2);
  await expect(page.locator("li[data-kind=phone]")).toHaveCount(0);
}

for (const lang of ["en", "he-IL"] as const) {
  test.describe(`registration (${lang})`, () => {
    test("with JavaScript", async ({ page }) => {
      const problems = watchConsole(page);
      await journey(page, lang, true);
      expect(problems.filter((p) => !p.includes("status of 4"))).toEqual([]);
    });

    test.describe("without JavaScript", () => {
      test.use({ javaScriptEnabled: false });
      test("the same journey", async ({ page }) => {
        await journey(page, lang, false);
      });
    });
  });
}

test("the short registration link asks strangers to sign in, then returns them", async ({ page }) => {
  const login = uniqueLogin("link");
  const password = createUser(login);
  await page.goto("/ssprsetup");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fsecurity-info%2Fsetup$/);
  await waitHydrated(page);
  await signIn(page, login, password);
  await expect(page).toHaveURL(/\/security-info\/setup$/);
});
