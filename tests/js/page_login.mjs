// Drives Debian's chromium through the log-in page as a phone would: a
// wrong password first (the page says so, no browser dialog), then the
// right one, which must land on ?next= with the session cookie set
// HttpOnly (the page's own script cannot read it); then "Share this
// folder" on the listing, and "Log out".  Prints one JSON line with what
// it saw; test_login.py checks it against the server.
//
//   node page_login.mjs BASE_URL USER PASSWORD SCREENSHOT
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");
const [base, user, pass, shot] = process.argv.slice(2);
const out = { errors: [] };

const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => out.errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") out.errors.push(m.text());
  });
  // Every failed load, but the log-in's own 403 for a wrong password.
  page.on("response", (r) => {
    if (r.status() >= 400 && !(r.status() === 403 &&
        r.url().endsWith("/.well-known/lanhttpd/login")))
      out.errors.push(r.status() + " " + r.url());
  });
  // A Basic dialog would show up as one; there must be none.
  page.on("dialog", (d) => { out.errors.push("dialog: " + d.message());
    d.dismiss(); });
  await page.setViewport({ width: 360, height: 780, deviceScaleFactor: 1,
    isMobile: true, hasTouch: true });
  await page.goto(base + "/.well-known/lanhttpd/login?next=/priv/",
    { waitUntil: "load" });

  await page.type("#user", user);
  await page.type("#pass", "not the password");
  // A wrong answer is 403, which the console reports as a failed load:
  // that one is expected.
  const before = out.errors.length;
  await page.click("button");
  await page.waitForFunction(
    () => document.getElementById("msg").textContent !== "",
    { timeout: 30000 });
  out.wrongMsg = await page.$eval("#msg", (e) => e.textContent);
  out.errors = out.errors.slice(0, before).concat(out.errors.slice(before)
    .filter((e) => !/status of 403/.test(e)));
  await page.screenshot({ path: shot });

  await page.$eval("#pass", (e) => { e.value = ""; });
  await page.type("#pass", pass);
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load", timeout: 30000 }),
    page.click("button"),
  ]);
  out.afterLogin = new URL(page.url()).pathname;
  out.signedIn = await page.$eval("nav.acct", (e) => e.textContent);
  out.cookies = await page.cookies();
  out.scriptSeesCookie = await page.evaluate(() =>
    document.cookie.includes("lanhttpd_session"));

  // Share this folder: the page shows the link.
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load", timeout: 30000 }),
    page.click("nav.acct form[action*='kind=read'] button"),
  ]);
  out.shareLink = await page.$eval("#link", (e) => e.value);

  // Log out, from the listing.
  await page.goto(base + "/priv/", { waitUntil: "load" });
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load", timeout: 30000 }),
    page.click("nav.acct form[action$='logout'] button"),
  ]);
  out.loginLinkAfterLogout = (await page.$(
    "nav.acct a[href^='/.well-known/lanhttpd/login']")) !== null;
} catch (e) {
  out.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
