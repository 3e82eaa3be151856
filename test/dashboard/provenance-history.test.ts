// The dashboard on history (issue 9 item 6): a network past five epochs (epochBlocks = 3, blocks made
// by hand), and a reading finalized in epoch 0. Chromium opens its provenance and finds it verified:
// the certificate checked with epoch 0's set, and the walk of set hand-overs from genesis to the
// head's epoch checked. Screenshot: test-output/dashboard-provenance-history.png.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { openBrowser } from "../support/chromium.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNet, type TestNet } from "../api/net.ts";

const epochBlocks = 3;
const outDir = join(process.cwd(), "test-output");
let net: TestNet;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  net = await startTestNet({ boards: 1, listen: true, params: { epochBlocks } });
  await net.send([18.25, 18.5]);
  net.drain();
  expect(net.chain.head().height).toBeLessThanOrEqual(epochBlocks);
  while (net.chain.head().height < 6 * epochBlocks + 2) net.producer.produce();
  ({ browser, page, pageErrors } = await openBrowser());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await net?.close();
});

describe("dashboard: provenance of an old reading", () => {
  it("a reading from epoch 0, six epochs back, is verified with its walk from genesis", async () => {
    const board = net.boards[0];
    await page.goto(`${net.url}/dashboard/#/readings/${board.deviceIdHex}/0`);
    const verdict = page.getByTestId("provenance-verdict");
    await verdict.waitFor({ timeout: 10_000 }).catch((e) => {
      throw new Error(`the provenance page did not render: ${pageErrors.join("; ") || (e as Error).message}`);
    });
    expect(await verdict.getAttribute("data-verified")).toBe("true");
    expect(await verdict.textContent()).toContain("(epoch 0)");
    const steps = page.getByTestId("provenance-step");
    expect(await steps.count()).toBe(6);
    for (const ok of await steps.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.ok))) expect(ok).toBe("true");
    const walk = page.getByTestId("epoch-walk");
    expect(await walk.getAttribute("data-valid")).toBe("true");
    expect(Number(await walk.getAttribute("data-transitions"))).toBeGreaterThanOrEqual(6);
    expect(await steps.nth(3).textContent()).toContain("1 valid of 1 needed (set of 1)");
    await walk.locator("summary").click();
    await page.screenshot({ path: join(outDir, "dashboard-provenance-history.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
