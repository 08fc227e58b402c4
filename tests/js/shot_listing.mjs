// A phone-size screenshot of a folder's page with its QR code open, for
// docs/ (not a test):  node shot_listing.mjs URL OUT.png
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");
const [url, out] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2,
    isMobile: true, hasTouch: true });
  await page.goto(url, { waitUntil: "load" });
  await page.$eval("details.qr", (d) => { d.open = true; });
  await page.waitForFunction(() => {
    const i = document.querySelector("details.qr img");
    return i && i.complete && i.naturalWidth > 0;
  }, { timeout: 10000 });
  await page.screenshot({ path: out, fullPage: true });
} finally {
  await browser.close();
}
