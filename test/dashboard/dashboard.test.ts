// The dashboard in a real browser: Debian's Chromium driven by playwright-core opens it on a live
// one-gateway network (firmware boards → UDP → ingest → solo producer → SQLite chain → API), sees
// blocks advance, sees a device's chart gain points as the device reports, opens a reading's
// provenance and finds it verified (the state link in two steps: device record, reading log). Screenshots go to test-output/ (and docs/dashboard.png).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { openBrowser } from "../support/chromium.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNet, type TestNet } from "../api/net.ts";

const outDir = join(process.cwd(), "test-output");
// The README's screenshot: written when missing or when MOTE_UPDATE_DOCS=1, so ordinary test runs
// leave the working tree clean.
const docsShot = join(process.cwd(), "docs", "dashboard.png");
const updateDocsShot = !existsSync(docsShot) || process.env.MOTE_UPDATE_DOCS === "1";

let net: TestNet;
let browser: Browser;
let page: Page;
let feeder: NodeJS.Timeout | undefined;
let pageErrors: string[] = [];

/** A smooth, plausible signal per board: temperature drifting around 21 °C. */
const temperature = (board: number, step: number): number => Math.round((21 + 2.5 * Math.sin(step / 3 + board) + 0.3 * Math.cos(step * 1.7)) * 100) / 100;

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  mkdirSync(join(process.cwd(), "docs"), { recursive: true });
  net = await startTestNet({ boards: 5, live: true, blockIntervalMs: 250, emptyBlockIntervalMs: 400 });
  // History for the charts: 12 readings per board, a quarter of a second apart.
  for (let step = 0; step < 12; step++) {
    net.boards.forEach((b, i) => b.reading(0, temperature(i, step)));
    await Promise.all([...net.boards.map((b) => b.idle(20_000)), new Promise((r) => setTimeout(r, 250))]);
  }
  ({ browser, page, pageErrors } = await openBrowser());
}, 120_000);

afterAll(async () => {
  clearInterval(feeder);
  await browser?.close();
  await net?.close();
});

describe("dashboard in Chromium", () => {
  it("shows blocks advancing on the network page", async () => {
    await page.goto(`${net.url}/dashboard/`);
    const height = page.getByTestId("head-height");
    await height.waitFor({ timeout: 10_000 }).catch((e) => {
      throw new Error(`the network page did not render: ${pageErrors.join("; ") || (e as Error).message}`);
    });
    const first = Number((await height.textContent())!.replace(/,/g, ""));
    await page.waitForFunction((h) => Number(document.querySelector('[data-testid="head-height"]')!.textContent!.replace(/,/g, "")) > h + 2, first, { timeout: 15_000 });
    expect(await page.locator('[data-testid="latest-blocks"] tbody tr').count()).toBeGreaterThan(3);
    await expect.poll(() => page.locator("#live").getAttribute("data-state")).toBe("open");
    // Validators with stake and the devices table are there.
    expect(await page.locator("text=Validators").count()).toBeGreaterThan(0);
    expect(await page.locator("[data-device]").count()).toBe(net.boards.length);
    await page.waitForTimeout(600); // let the row highlight fade for a calm screenshot
    await page.screenshot({ path: join(outDir, "dashboard-network.png"), fullPage: true });
    if (updateDocsShot) await page.screenshot({ path: docsShot });
  });

  it("a device's chart gains points as the device reports", async () => {
    const board = net.boards[0];
    await page.locator(`[data-device="${board.deviceIdHex}"] a`).first().click();
    const chart = page.getByTestId("chart");
    await chart.waitFor();
    await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: 10_000 }).toBeGreaterThanOrEqual(12);
    const before = Number(await chart.getAttribute("data-points"));
    let step = 12;
    feeder = setInterval(() => {
      net.boards.forEach((b, i) => b.reading(0, temperature(i, step)));
      step++;
    }, 400);
    await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: 15_000 }).toBeGreaterThanOrEqual(before + 3);
    clearInterval(feeder);
    await page.waitForTimeout(1200);
    await page.screenshot({ path: join(outDir, "dashboard-device.png"), fullPage: true });
  });

  it("opens a reading's provenance and finds every link verified", async () => {
    await page.getByTestId("provenance-link").first().click();
    const verdict = page.getByTestId("provenance-verdict");
    await verdict.waitFor();
    expect(await verdict.getAttribute("data-verified")).toBe("true");
    const steps = page.getByTestId("provenance-step");
    expect(await steps.count()).toBe(6);
    for (const ok of await steps.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.ok))) expect(ok).toBe("true");
    // The state link in its two steps: the device's record under the state root, then the reading in its log.
    expect(await steps.nth(4).textContent()).toContain("Device record in the chain state");
    expect(await steps.nth(4).textContent()).toContain("device/");
    expect(await steps.nth(5).textContent()).toContain("Reading in the device's log");
    expect(await steps.nth(5).textContent()).toContain("Log root (from the frontier)");
    await page.screenshot({ path: join(outDir, "dashboard-provenance.png"), fullPage: true });
  });

  it("explores a block and its batch transaction", async () => {
    await page.locator("a[href^='#/blocks/']").first().click();
    await page.locator("h1", { hasText: "Block" }).waitFor();
    await page.locator("text=Commit certificate").waitFor();
    await page.screenshot({ path: join(outDir, "dashboard-block.png"), fullPage: true });
    await page.locator("a[href^='#/txs/']").first().click();
    await page.locator("h1", { hasText: "Transaction" }).waitFor();
    expect(await page.locator(".badge", { hasText: "readingBatch" }).count()).toBe(1);
    await page.screenshot({ path: join(outDir, "dashboard-tx.png"), fullPage: true });
    // Search by device id lands on the device.
    await page.fill("#search-input", net.boards[1].deviceIdHex);
    await page.press("#search-input", "Enter");
    await page.getByTestId("chart").waitFor();
    expect(pageErrors).toEqual([]);
  });
});
