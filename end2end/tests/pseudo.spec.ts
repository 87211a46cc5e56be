import { expect, Page, test } from "@playwright/test";
import { adminSignIn, createUser, registered, signIn, uniqueLogin, watchConsole } from "./support";

// The long pseudo-locale (en-XA, made from English by app/build.rs: every
// text accented, about 40 % longer, between ⟦ ⟧) at 360 px, the narrowest
// phone width in common use: no page scrolls sideways and no text is cut or
// spills out of its box (issue 14). The right-to-left one (ar-XB) mirrors
// the page. The server-side gate that every text is from a catalog is
// server/tests/it/pseudo.rs. Pages in a pseudo-locale come without the wasm
// (which does not know them), as without JavaScript: the layout is the
// same.

test.use({ viewport: { width: 360, height: 740 } });

/** What does not fit at this width, described for the failure message. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) {
      problems.push(`the page is ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
    }
    for (const el of Array.from(document.body.querySelectorAll<HTMLElement>("*"))) {
      const style = getComputedStyle(el);
      if (style.display === "none" || style.visibility === "hidden" || el.clientWidth <= 1) continue;
      if (!(el.textContent ?? "").trim()) continue;
      // Scrolling boxes (wide admin tables) are meant to scroll.
      if (style.overflowX === "auto" || style.overflowX === "scroll") continue;
      // Text wider than its box is cut (overflow hidden) or runs over its
      // neighbours (visible); either way the reader loses it.
      if (el.scrollWidth > el.clientWidth + 1) {
        const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") + (el.className ? `.${el.className}` : "");
        problems.push(`${name} holds ${el.scrollWidth} px in ${el.clientWidth} px: ${(el.textContent ?? "").trim().slice(0, 60)}`);
      }
    }
    return problems;
  });
}

/** Opens each path (the language kept by the picker's cookie) and checks it fits. */
async function fitAll(page: Page, paths: string[], query = "") {
  for (const path of paths) {
    await page.goto(path + query);
    await expect(page.locator("html")).toHaveAttribute("lang", "en-XA");
    expect(await overflowing(page), path).toEqual([]);
    await page.screenshot({ path: test.info().outputPath(`en-XA${path.replaceAll("/", "-")}.png`), fullPage: true });
  }
}

test("every page fits 360 px in the long pseudo-locale", async ({ page }) => {
  const problems = watchConsole(page);
  await fitAll(page, ["/", "/sign-in", "/reset"], "?lang=en-XA");
  // The picker's cookie keeps the language from here on.
  const login = uniqueLogin("pseudo");
  const password = createUser(login);
  await page.goto("/sign-in");
  await signIn(page, login, password);
  await expect(page).toHaveURL(/\/security-info\/setup$/);
  await fitAll(page, [
    "/security-info/setup",
    "/security-info/setup/email",
    "/security-info/setup/phone",
    "/security-info/setup/app",
    "/account",
    "/account/password",
    "/security-info",
  ]);
  expect(problems).toEqual([]);
});

test("the admin portal fits 360 px in the long pseudo-locale", async ({ browser, page }) => {
  const admin = await registered(page, { admin: true });
  const portal = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
  const problems = watchConsole(portal);
  await adminSignIn(portal, admin, "en-XA", false);
  await fitAll(portal, [
    "/admin",
    "/admin/password-reset",
    "/admin/password-reset/history",
    "/admin/users",
    "/admin/groups",
    "/admin/audit",
  ]);
  expect(problems).toEqual([]);
});

test("the right-to-left pseudo-locale mirrors the page", async ({ page }) => {
  await page.goto("/reset?lang=ar-XB");
  await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
  // The header's first item, the product's name, sits against the right
  // edge: nearer to it than to the left (the other way round when left to
  // right; equal gaps fail too).
  const header = await page.locator(".site-header").boundingBox();
  const brand = await page.locator(".site-header .brand").boundingBox();
  expect(header && brand).toBeTruthy();
  const rightGap = header!.x + header!.width - (brand!.x + brand!.width);
  const leftGap = brand!.x - header!.x;
  expect(rightGap + 10).toBeLessThan(leftGap);
  await page.screenshot({ path: test.info().outputPath("ar-XB-reset.png"), fullPage: true });
});
