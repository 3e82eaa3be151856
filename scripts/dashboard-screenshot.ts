// Takes the README's dashboard screenshot from a running network (npm start), with Debian's
// Chromium: npx tsx scripts/dashboard-screenshot.ts [api url] [out.png]
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [api = "http://127.0.0.1:8080", out = "docs/dashboard.png"] = process.argv.slice(2);
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "mote-shot-")), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1440, height: 1000 },
});
const page = await browser.newPage();
await page.goto(`${api}/dashboard/`);
await page.waitForTimeout(4_000); // let the live view fill in and a few blocks arrive
await page.screenshot({ path: out });
await browser.close();
console.log(`wrote ${out}`);
