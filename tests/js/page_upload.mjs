// Drives Debian's chromium through the upload block of a writable
// folder's listing page, as a phone (360 px wide) would use it: three
// files through the form's file input, a big one (tus) whose progress
// bar must move, and a folder plus a file dropped onto the page.  Prints
// one JSON line with what it saw; test_upload.py checks the files.
//
//   node page_upload.mjs URL SRC_DIR SCREENSHOT
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");
const [url, src, shot] = process.argv.slice(2);
const out = { errors: [], progress: [] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
  page.on("dialog", (d) => d.accept());
  await page.setViewport({ width: 360, height: 780, deviceScaleFactor: 1,
    isMobile: true, hasTouch: true });
  await page.goto(url, { waitUntil: "load" });
  out.hasForm = (await page.$("form[enctype='multipart/form-data'] " +
    "input[type=file][name=file]")) !== null;
  await page.screenshot({ path: shot });

  // Three files through the file input: the page reloads when done.
  const input = await page.$("#up-f input[type=file]");
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load", timeout: 30000 }),
    input.uploadFile(join(src, "one.txt"), join(src, "two.bin"),
      join(src, "three.jpg")),
  ]);
  out.form = true;

  // A big file goes through tus; the progress bar moves while it does.
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false,
    latency: 0, downloadThroughput: -1, uploadThroughput: 16 << 20 });
  const input2 = await page.$("#up-f input[type=file]");
  const nav = page.waitForNavigation({ waitUntil: "load", timeout: 60000 });
  await input2.uploadFile(join(src, "big.bin"));
  for (let i = 0; i < 400; i++) {
    const v = await page.$$eval("#up-q progress", (l) => l.map((p) => p.value))
      .catch(() => []);
    if (v.length) out.progress.push(v[0]);
    if (v.length && v[0] >= 1) break;
    await sleep(10);
  }
  await nav;
  await cdp.send("Network.emulateNetworkConditions", { offline: false,
    latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  // A folder and a file dropped onto the page.
  const data = { items: [], dragOperationsMask: 1,
    files: [join(src, "dropped"), join(src, "loose.txt")] };
  await cdp.send("Input.dispatchDragEvent", { type: "dragEnter", x: 180,
    y: 300, data });
  await cdp.send("Input.dispatchDragEvent", { type: "dragOver", x: 180,
    y: 300, data });
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load", timeout: 30000 }),
    cdp.send("Input.dispatchDragEvent", { type: "drop", x: 180, y: 300,
      data }),
  ]);
  out.drop = true;
  out.names = await page.$$eval("tbody td.n a", (l) => l.map((a) =>
    a.textContent));
} catch (e) {
  out.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
