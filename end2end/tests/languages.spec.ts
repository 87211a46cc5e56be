import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  beginReset,
  codeFromOutbox,
  createUser,
  emailGate,
  signIn,
  uniqueLogin,
  waitHydrated,
  watchConsole,
} from "./support";

// The registration and reset journeys in four of the eleven languages
// (issue 14): each step's heading from the language's catalog, the page's
// direction, no WCAG 2.1 AA violation, a clean hydration, and a screenshot
// of every step (kept with the test's results) in he-IL and ja-JP.

const NEW = "mauve tractor under the lighthouse";
const LANGUAGES = [
  { tag: "zh-TW", dir: "ltr" },
  { tag: "ja-JP", dir: "ltr" },
  { tag: "he-IL", dir: "rtl" },
  { tag: "ar", dir: "rtl" },
];
const SCREENSHOTS = new Set(["he-IL", "ja-JP"]);

function catalog(tag: string): Record<string, string> {
  return JSON.parse(readFileSync(join(__dirname, "..", "..", "app", "locales", `${tag}.json`), "utf8"));
}

async function axe(page: Page) {
  const scan = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21aa"]).analyze();
  expect(scan.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`)).toEqual([]);
}

for (const { tag, dir } of LANGUAGES) {
  const text = catalog(tag);
  test.describe(`in ${tag}`, () => {
    /** The step is in the language and direction, accessible, and pictured. */
    async function step(page: Page, titleKey: string, name: string) {
      await expect(page.locator("html")).toHaveAttribute("lang", tag);
      await expect(page.locator("html")).toHaveAttribute("dir", dir);
      await expect(page.locator("h1")).toHaveText(text[titleKey]);
      await waitHydrated(page);
      await axe(page);
      if (SCREENSHOTS.has(tag)) {
        await page.screenshot({ path: test.info().outputPath(`${tag}-${name}.png`), fullPage: true });
      }
    }

    test("registration, then a reset", async ({ page }) => {
      const problems = watchConsole(page);
      const login = uniqueLogin("lang");
      const password = createUser(login);
      const email = `${login}@home.example`;
      await page.goto(`/sign-in?lang=${tag}`);
      await step(page, "sign_in_title", "sign-in");
      await signIn(page, login, password);
      await expect(page).toHaveURL(/\/security-info\/setup$/);
      await step(page, "setup_more_info_title", "setup");
      await page.locator("a[href='/security-info/setup/email']").click();
      await expect(page).toHaveURL(/\/security-info\/setup\/email$/);
      await step(page, "setup_email_title", "setup-email");
      await page.locator("#address").fill(email);
      await page.locator("form[action='/api/setup_email'] button[type=submit]").click();
      await expect(page).toHaveURL(/\/security-info\/setup\/verify$/);
      await step(page, "setup_verify_title", "setup-verify");
      await page.locator("#code").fill(await codeFromOutbox(page, email));
      await page.locator("form[action='/api/setup_verify'] button[type=submit]").click();
      await expect(page).toHaveURL(/\/security-info\/setup$/);
      await page.locator("form[action='/api/setup_finish'] button[type=submit]").click();
      await expect(page).toHaveURL(/\/security-info$/);
      await step(page, "security_info_title", "security-info");
      // Saved on My account, the language follows the account to a
      // browser that asks for English.
      await page.goto("/account");
      await step(page, "account_title", "account");
      // Nothing saved yet: "Automatic" (the browser's languages) is chosen.
      await expect(page.locator("#account-lang")).toHaveValue("auto");
      await page.locator("#account-lang").selectOption(tag);
      await page.locator("form.account-language button[type=submit]").click();
      await expect(page).toHaveURL(new RegExp(`/account\\?lang=${tag}$`));
      await page.context().clearCookies();
      await page.goto("/sign-in?lang=en");
      await signIn(page, login, password);
      await expect(page).toHaveURL(/\/account$/);
      // The next page load is in the account's language (the signed-in
      // page itself came by client-side navigation, still in English).
      await page.goto("/account");
      await expect(page.locator("html")).toHaveAttribute("lang", tag);
      await expect(page.locator("h1")).toHaveText(text["account_title"]);
      await page.context().clearCookies();

      await beginReset(page, login, tag, true);
      await step(page, "reset_verify_title", "reset-verify");
      await emailGate(page, email);
      await expect(page).toHaveURL(/\/reset\/password$/);
      await step(page, "reset_password_title", "reset-password");
      await page.locator("#new_password").fill(NEW);
      await page.locator("#confirm_password").fill(NEW);
      await page.locator("form[action='/api/reset_password'] button[type=submit]").click();
      await expect(page).toHaveURL(/\/reset\/done$/);
      await step(page, "reset_done_title", "reset-done");
      expect(problems.filter((p) => !p.includes("status of 4"))).toEqual([]);
    });
  });
}
