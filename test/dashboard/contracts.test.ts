// The dashboard's contracts view in Chromium, on a live one-gateway network with contracts enabled:
// the threshold alarm and the hourly aggregate are deployed by transaction and triggered by the
// boards' readings; the list shows both with their gas, the alarm's page shows its events, the
// gas of its runs as bars and its storage with verified proofs, and a new alarm appears without a
// reload when a board's temperature crosses the threshold. Screenshot: test-output/dashboard-contract.png.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { signTx, txVersion, type TxBody } from "../../shared/tx.ts";
import { minimumFee } from "../../gateway/chain/apply-tx.ts";
import { contractIdOf } from "../../gateway/contracts/records.ts";
import { startTestNet, type TestNet } from "../api/net.ts";
import { examples, i64le } from "../contracts/contract-fixture.ts";
import { openBrowser } from "../support/chromium.ts";

const outDir = join(process.cwd(), "test-output");
let net: TestNet;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];
let alarm: string;
let hourly: string;

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  const code = await examples();
  net = await startTestNet({ boards: 2, live: true, blockIntervalMs: 250, emptyBlockIntervalMs: 400, params: { contractsEnabled: 1 } });
  const who = net.users[0];
  let nonce = 0;
  const submit = (body: TxBody) => net.mempool.add(signTx(who.key, net.chain.chainId, { version: txVersion, author: who.publicKey, nonce: nonce++, fee: minimumFee(body, net.chain.params()), body }), Date.now());
  alarm = toHex(contractIdOf(who.id, 0));
  hourly = toHex(contractIdOf(who.id, 1));
  submit({ kind: "deployContract", code: code["threshold-alarm"], criteria: [{ kind: "device", deviceId: fromHex(net.boards[0].deviceIdHex) }], readingGasLimit: 100_000 });
  submit({ kind: "deployContract", code: code["hourly-aggregate"], criteria: [{ kind: "owner", ownerId: net.owner.id }], readingGasLimit: 200_000 });
  submit({ kind: "transfer", to: fromHex(alarm), amount: 1000n });
  submit({ kind: "transfer", to: fromHex(hourly), amount: 1000n });
  submit({ kind: "callContract", contractId: fromHex(alarm), method: "configure", input: i64le(30_000n, 25_000n), gasLimit: 500_000, amount: 0n });
  await net.waitFor(() => net.mempool.size === 0 && net.chain.state().account(fromHex(hourly)).balance > 0n);
  for (const t of [20, 31, 24, 22]) await net.send([t]);
  await net.waitFor(() => net.gateway.gw.store.counts().pending === 0);
  ({ browser, page, pageErrors } = await openBrowser());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await net?.close();
});

describe("dashboard: contracts", () => {
  it("lists the contracts with their runs and gas", async () => {
    await page.goto(`${net.url}/dashboard/#/contracts`);
    const rows = page.locator('[data-testid="contracts-table"] tbody tr');
    await rows.first().waitFor({ timeout: 10_000 }).catch((e) => {
      throw new Error(`the contracts page did not render: ${pageErrors.join("; ") || (e as Error).message}`);
    });
    expect(await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.contract).sort())).toEqual([alarm, hourly].sort());
    const hourlyCells = await page.locator(`[data-contract="${hourly}"] td`).allTextContents();
    expect(Number(hourlyCells[4].replace(/,/g, ""))).toBe(8); // 4 readings from each of 2 boards
    expect(Number(hourlyCells[5].replace(/,/g, ""))).toBeGreaterThan(0);
    expect(await page.locator('[data-nav="contracts"]').getAttribute("class")).toContain("active");
  });

  it("shows a contract's events, gas per run and proven storage, and a new event without a reload", async () => {
    await page.locator(`[data-contract="${alarm}"] a`).first().click();
    const events = page.locator('[data-testid="contract-events"] tr');
    await events.first().waitFor({ timeout: 10_000 });
    expect(await events.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.topic))).toEqual(["clear", "alarm"]);
    expect(await page.getByTestId("contract-gas-bars").getAttribute("data-runs")).toBe("5"); // configure + 4 readings
    const gas = Number((await page.getByTestId("contract-gas-used").textContent())!.replace(/,/g, ""));
    expect(gas).toBeGreaterThan(0);
    expect(await page.locator("text=proven at height").count()).toBe(1);
    expect(await page.locator(".check").count()).toBeGreaterThanOrEqual(2); // cfg and the device's state, each proof verified
    expect(await page.locator(".cross").count()).toBe(0);
    // Board 0 goes to 35 °C: the alarm's page gains the event when the block is finalized.
    await net.send([35]);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="contract-events"] tr').length === 3, undefined, { timeout: 15_000 });
    expect(await events.first().getAttribute("data-topic")).toBe("alarm");
    await page.screenshot({ path: join(outDir, "dashboard-contract.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("a call transaction's page shows its run and links to the contract", async () => {
    const txs = (await (await fetch(`${net.url}/v1/blocks?order=asc&limit=20`)).json()) as { items: { height: number; txs: number }[] };
    let callId: string | undefined;
    for (const b of txs.items.filter((x) => x.txs > 0)) {
      const block = (await (await fetch(`${net.url}/v1/blocks/${b.height}`)).json()) as { txs: { id: string; kind: string }[] };
      callId ??= block.txs.find((t) => t.kind === "callContract")?.id;
    }
    expect(callId).toBeDefined();
    await page.goto(`${net.url}/dashboard/#/txs/${callId}`);
    await page.locator("text=Contract runs").waitFor({ timeout: 10_000 });
    expect(await page.locator(`a[href="#/contracts/${alarm}"]`).count()).toBeGreaterThanOrEqual(1);
    expect(pageErrors).toEqual([]);
  });

  it("the search box takes a contract id", async () => {
    await page.fill("#search-input", hourly);
    await page.press("#search-input", "Enter");
    await page.waitForFunction((id) => location.hash === `#/contracts/${id}`, hourly, { timeout: 10_000 });
    await page.getByTestId("contract-gas-used").waitFor({ timeout: 10_000 });
  });
});
