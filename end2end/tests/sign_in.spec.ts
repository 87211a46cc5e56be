import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { createUser, signIn, skipRegistration, uniqueLogin, waitHydrated, watchConsole } from "./support";

test.describe("with JavaScript", () => {
  test("pages hydrate with no console errors or CSP violations", async ({ page }) => {
    const problems = watchConsole(page);
    for (const path of ["/sign-in", "/sign-in?lang=he-IL", "/reset", "/security-info/setup", "/dev/outbox"]) {
      await page.goto(path);
      await waitHydrated(page);
    }
    expect(problems).toEqual([]);
  });

  test("sign in, see My account, sign out", async ({ page }) => {
    const login = uniqueLogin();
    const password = createUser(login, { name: "Riley Tester" });
    const problems = watchConsole(page);
    await page.goto("/sign-in");
    await waitHydrated(page);
    await signIn(page, login, password);
    await skipRegistration(page);
    await expect(page.getByRole("heading", { name: "My account" })).toBeVisible();
    await expect(page.getByText("Signed in as Riley Tester")).toBeVisible();
    await expect(page.getByTestId("login")).toHaveText(login);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in$/);
    // The session is gone on the server: My account sends us back.
    await page.goto("/account");
    await expect(page).toHaveURL(/\/sign-in$/);
    expect(problems).toEqual([]);
  });

  test("a wrong password shows the generic message, announced", async ({ page }) => {
    const login = uniqueLogin();
    createUser(login);
    await page.goto("/sign-in");
    await waitHydrated(page);
    await signIn(page, login, "not the password");
    const alert = page.getByRole("alert");
    await expect(alert).toContainText("Your user ID or password is incorrect.");
    await expect(alert.locator("[data-code=invalid_credentials]")).toBeVisible();
    // An unknown user ID gets exactly the same message.
    await signIn(page, uniqueLogin("ghost"), "not the password");
    await expect(alert).toContainText("Your user ID or password is incorrect.");
    await expect(page).toHaveURL(/\/sign-in/);
  });

  test("he-IL is right-to-left and the same sign-in works", async ({ page }) => {
    const login = uniqueLogin();
    const password = createUser(login, { name: "נועה בודקת" });
    await page.goto("/sign-in?lang=he-IL");
    await waitHydrated(page);
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.locator("html")).toHaveAttribute("lang", "he-IL");
    await expect(page.getByRole("heading", { name: "כניסה" })).toBeVisible();
    // Latin-script fields stay left-to-right.
    await expect(page.locator("#login")).toHaveAttribute("dir", "ltr");
    await signIn(page, login, password);
    await skipRegistration(page);
    await expect(page.getByRole("heading", { name: "החשבון שלי" })).toBeVisible();
    await expect(page.getByText("נועה בודקת")).toBeVisible();
  });

  test("the language picker switches to Hebrew and remembers it", async ({ page }) => {
    await page.goto("/sign-in");
    await waitHydrated(page);
    await page.getByLabel("Language").selectOption("he-IL");
    await page.getByRole("button", { name: "Change language" }).click();
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await page.goto("/reset");
    await expect(page.locator("html")).toHaveAttribute("lang", "he-IL");
    await expect(page.getByRole("heading", { name: "חזרה לחשבון שלך" })).toBeVisible();
  });

  test("keyboard only: tab to the fields and press Enter", async ({ page }) => {
    const login = uniqueLogin();
    const password = createUser(login);
    await page.goto("/sign-in");
    await waitHydrated(page);
    await page.locator("#login").focus();
    await page.keyboard.type(login);
    await page.keyboard.press("Tab");
    await expect(page.locator("#password")).toBeFocused();
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/security-info\/setup$/);
  });

  test("the forgot-password and registration links lead somewhere real", async ({ page }) => {
    await page.goto("/sign-in");
    await page.getByRole("link", { name: "Forgot my password?" }).click();
    await expect(page).toHaveURL(/\/reset$/);
    await expect(page.getByRole("heading", { name: "Get back into your account" })).toBeVisible();
    await page.goto("/ssprsetup");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fsecurity-info%2Fsetup$/);
  });

  for (const lang of ["en", "he-IL"]) {
    test(`sign-in, wizard and My account pages have no WCAG 2.1 AA violations (${lang})`, async ({ page }) => {
      const login = uniqueLogin();
      const password = createUser(login);
      await page.goto(`/sign-in?lang=${lang}`);
      await waitHydrated(page);
      const signInScan = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21aa"]).analyze();
      expect(signInScan.violations).toEqual([]);
      await signIn(page, login, password);
      await expect(page).toHaveURL(/\/security-info\/setup$/);
      const setupScan = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21aa"]).analyze();
      expect(setupScan.violations).toEqual([]);
      await skipRegistration(page);
      const accountScan = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21aa"]).analyze();
      expect(accountScan.violations).toEqual([]);
    });
  }
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign in, see My account, sign out", async ({ page, context }) => {
    const login = uniqueLogin();
    const password = createUser(login, { name: "No Script" });
    await page.goto("/sign-in");
    await signIn(page, login, password);
    await skipRegistration(page);
    await expect(page.getByText("Signed in as No Script")).toBeVisible();
    const before = (await context.cookies()).find((c) => c.name === "sspr_session");
    expect(before?.httpOnly).toBe(true);
    expect(before?.sameSite).toBe("Strict");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in$/);
    await page.goto("/account");
    await expect(page).toHaveURL(/\/sign-in$/);
  });

  test("a wrong password shows the message after the redirect", async ({ page }) => {
    const login = uniqueLogin();
    createUser(login);
    await page.goto("/sign-in?lang=he-IL");
    await signIn(page, login, "wrong");
    await expect(page.getByRole("alert")).toContainText("מזהה המשתמש או הסיסמה שגויים");
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  });

  test("the language picker works as a plain form", async ({ page }) => {
    await page.goto("/sign-in");
    await page.getByLabel("Language").selectOption("he-IL");
    await page.getByRole("button", { name: "Change language" }).click();
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  });
});
