import { expect, Page, test } from "@playwright/test";
import { codeFromOutbox, createUser, signIn, uniqueLogin, updatePolicy, waitHydrated, watchConsole } from "./support";

test.beforeAll(() => updatePolicy({ allow_questions: true, questions_to_register: 3 }));

/** Security questions next to an email address; `js` says whether the page hydrates. */
async function journey(page: Page, lang: "en" | "he-IL", js: boolean): Promise<{ login: string; email: string }> {
  const login = uniqueLogin("sq");
  const password = createUser(login);
  const email = `${login}@home.example`;
  await page.goto(`/sign-in?lang=${lang}`);
  if (js) await waitHydrated(page);
  await signIn(page, login, password);
  await expect(page).toHaveURL(/\/security-info\/setup$/);

  await page.locator("a[href='/security-info/setup/questions']").click();
  await expect(page).toHaveURL(/\/security-info\/setup\/questions$/);
  // Predefined questions in the page's language, each row on a different one.
  await expect(page.locator("#q1-choice option:checked")).toHaveText(
    lang === "en" ? "In what city were you born?" : "באיזו עיר נולדת?",
  );
  await expect(page.locator("#q2-choice option:checked")).not.toHaveText(await page.locator("#q1-choice option:checked").innerText());
  await page.locator("#q3-choice").selectOption("custom");
  await page.locator("#q3-custom").fill(lang === "en" ? "What street did I grow up on?" : "באיזה רחוב גדלתי?");
  await page.locator("#q1-answer").fill("Haifa");
  await page.locator("#q2-answer").fill("Rex");
  // A repeated answer (case and spacing do not matter) is refused, announced.
  await page.locator("#q3-answer").fill("  HAIFA ");
  await page.locator("form[action='/api/setup_questions'] button[type=submit]").click();
  await expect(page.getByRole("alert").locator("[data-code=answer_repeated]")).toBeVisible();
  if (!js) {
    // Without JavaScript the form is posted and shown again, empty.
    await page.locator("#q3-choice").selectOption("custom");
    await page.locator("#q3-custom").fill(lang === "en" ? "What street did I grow up on?" : "באיזה רחוב גדלתי?");
    await page.locator("#q1-answer").fill("Haifa");
    await page.locator("#q2-answer").fill("Rex");
  }
  await page.locator("#q3-answer").fill("Herzl");
  await page.locator("form[action='/api/setup_questions'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await expect(page.locator("li[data-kind=questions]")).toHaveCount(1);
  // Questions alone are not enough: no Finish yet.
  await expect(page.locator("form[action='/api/setup_finish']")).toHaveCount(0);

  await page.locator("a[href='/security-info/setup/email']").click();
  await page.locator("#address").fill(email);
  await page.locator("form[action='/api/setup_email'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup\/verify$/);
  await page.locator("#code").fill(await codeFromOutbox(page, email));
  await page.locator("form[action='/api/setup_verify'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await page.locator("form[action='/api/setup_finish'] button[type=submit]").click();
  await expect(page).toHaveURL(/\/security-info$/);
  await expect(page.locator("ul.methods > li")).toHaveCount(2);
  return { login, email };
}

test("security questions with JavaScript, right to left", async ({ page }) => {
  const problems = watchConsole(page);
  await journey(page, "he-IL", true);
  expect(problems.filter((p) => !p.includes("status of 4"))).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("security questions", async ({ page }) => {
    await journey(page, "en", false);
  });
});

test("security questions as the second reset gate", async ({ page }) => {
  // Two gates for everyone while this test runs (tests run one at a time).
  updatePolicy({ methods_required: 2 });
  try {
    const { login, email } = await journey(page, "en", true);
    await page.goto("/account");
    await page.locator("form[action='/api/sign_out'] button").click();
    await expect(page).toHaveURL(/\/sign-in/);
    await page.goto("/reset");
    await waitHydrated(page);
    await expect(page.locator(".captcha-status")).toHaveAttribute("data-solved", "true");
    await page.locator("#login").fill(login);
    await page.locator("form[action='/api/reset_start'] button[type=submit]").click();
    await expect(page).toHaveURL(/\/reset\/verify$/);
    await expect(page.getByText("Verification 1 of 2")).toBeVisible();
    // Never the first gate.
    await expect(page.locator("#gate-questions")).toHaveCount(0);
    await page.locator("#address").fill(email);
    await page.locator("form[action='/api/reset_email'] button[type=submit]").click();
    await expect(page).toHaveURL(/\/reset\/code$/);
    await page.locator("#code").fill(await codeFromOutbox(page, email));
    await page.locator("form[action='/api/reset_verify'] button[type=submit]").click();
    await expect(page).toHaveURL(/\/reset\/verify$/);
    await expect(page.getByText("Verification 2 of 2")).toBeVisible();
    await page.locator("form[action='/api/reset_questions'] button").click();
    await expect(page).toHaveURL(/\/reset\/questions$/);
    await waitHydrated(page);
    await expect(page.locator("label[for=answer-1]")).toHaveText("In what city were you born?");
    await expect(page.locator("label[for=answer-3]")).toHaveText("What street did I grow up on?");
    await expect(page.locator("#answer-1")).toBeFocused();
    await page.locator("#answer-1").fill("haifa");
    await page.locator("#answer-2").fill(" REX ");
    await page.locator("#answer-3").fill("Jabotinsky");
    await page.locator("form[action='/api/reset_answers'] button[type=submit]").click();
    await expect(page.getByRole("alert").locator("[data-code=wrong_answers]")).toBeVisible();
    await page.locator("#answer-3").fill("herzl");
    await page.locator("form[action='/api/reset_answers'] button[type=submit]").click();
    await expect(page).toHaveURL(/\/reset\/password$/);
  } finally {
    updatePolicy({ methods_required: 1 });
  }
});
