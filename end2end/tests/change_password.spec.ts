import { Browser, expect, Page, test } from "@playwright/test";
import { createUser, signIn, skipRegistration, uniqueLogin, waitHydrated, watchConsole } from "./support";

const NEW = "mauve tractor under the lighthouse";

/** A second, independent browser signed in as the same user. */
async function otherSession(browser: Browser, login: string, password: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/sign-in");
  await waitHydrated(page);
  await signIn(page, login, password);
  await skipRegistration(page);
  return page;
}

async function fill(page: Page, current: string, next: string, confirm: string) {
  await page.locator("#current_password").fill(current);
  await page.locator("#new_password").fill(next);
  await page.locator("#confirm_password").fill(confirm);
}

test("change password with a live checklist, then other sessions are gone", async ({ page, browser }) => {
  const problems = watchConsole(page);
  const login = uniqueLogin("chg");
  const password = createUser(login);
  const elsewhere = await otherSession(browser, login, password);

  await page.goto("/sign-in");
  await waitHydrated(page);
  await signIn(page, login, password);
  await skipRegistration(page);
  // The form arrives late (its rules are held back), so the user moves
  // focus before the page's own move to its first field could happen:
  // that move must not take focus back.
  const rulesRoute = "**/api/password_rules*";
  await page.route(rulesRoute, async (route) => {
    await new Promise((r) => setTimeout(r, 600));
    await route.continue();
  });
  await page.locator("a[href='/account/password']").click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await page.locator("main a[href='/account']").focus();
  await expect(page.locator("#current_password")).toBeVisible();
  await page.waitForTimeout(1_200);
  await expect(page.locator("main a[href='/account']")).toBeFocused();
  await page.unroute(rulesRoute);

  const rule = (name: string) => page.locator(`li[data-rule=${name}]`);
  await page.locator("#new_password").pressSequentially("short");
  await expect(rule("too_short")).toHaveAttribute("data-state", "unmet");
  // The server knows the common list; the browser asks it after a pause.
  await page.locator("#new_password").fill("password123456789");
  await expect(rule("common")).toHaveAttribute("data-state", "unmet");
  await page.locator("#new_password").fill(`${login} is my name`);
  await expect(rule("personal_info")).toHaveAttribute("data-state", "unmet");
  await page.locator("#new_password").fill(NEW);
  await expect(rule("too_short")).toHaveAttribute("data-state", "met");
  await expect(rule("personal_info")).toHaveAttribute("data-state", "met");
  await expect(rule("common")).toHaveAttribute("data-state", "met");
  await page.locator("#confirm_password").fill(`${NEW}!`);
  await expect(rule("mismatch")).toHaveAttribute("data-state", "unmet");

  // A wrong current password is refused and announced.
  await fill(page, "not my password", NEW, NEW);
  await page.locator("form[action='/api/change_password'] button[type=submit]").click();
  await expect(page.getByRole("alert").locator("[data-code=invalid_credentials]")).toBeVisible();
  await fill(page, password, NEW, NEW);
  await page.locator("form[action='/api/change_password'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/account\/password\/done$/);

  // The other browser was signed out; the new password signs in.
  await elsewhere.goto("/account");
  await expect(elsewhere).toHaveURL(/\/sign-in/);
  await elsewhere.context().close();
  await page.goto("/account");
  await waitHydrated(page);
  await page.locator("form[action='/api/sign_out'] button").click();
  await expect(page).toHaveURL(/\/sign-in/);
  await waitHydrated(page);
  await signIn(page, login, NEW);
  await expect(page).toHaveURL(/\/(account|security-info\/setup)$/);
  expect(problems.filter((p) => !p.includes("status of 4"))).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("change password, in Hebrew", async ({ page }) => {
    const login = uniqueLogin("chgn");
    const password = createUser(login);
    await page.goto("/sign-in?lang=he-IL");
    await signIn(page, login, password);
    await skipRegistration(page);
    await page.goto("/account/password");
    await expect(page.locator("li[data-rule=too_short]")).toContainText("15");
    await fill(page, password, "short", "short");
    await page.locator("form[action='/api/change_password'] button[type=submit]").click();
    await expect(page.getByRole("alert").locator("[data-code=password_rejected]")).toBeVisible();
    await fill(page, password, NEW, NEW);
    await page.locator("form[action='/api/change_password'] button[type=submit]").click();
    await expect(page).toHaveURL(/\/account\/password\/done$/);
    await expect(page.getByRole("heading", { name: "הסיסמה שונתה" })).toBeVisible();
  });
});
