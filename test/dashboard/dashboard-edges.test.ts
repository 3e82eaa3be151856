// Rough edges of the dashboard a new user hit (issue 14), in Debian's Chromium: the device chart
// cut the leading digits off y labels (101,560 Pa read "560 Pa"), x labels overlapped or repeated
// on short spans, the legend showed "—"; the validators table marked a healthy validator that was
// just not among the head certificate's signers with a red ✗.
import type { Browser, Page } from "playwright-core";
import { openBrowser } from "../support/chromium.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNet, type TestNet } from "../api/net.ts";

let net: TestNet;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

const pressure = (i: number) => 101_560 + ((i * 7) % 5) - 2; // Pa, catalog sensor 2
const temperature = (i: number) => Math.round((21.4 + 0.1 * Math.sin(i)) * 100) / 100; // Cel, sensor 0
const readings = 8;

beforeAll(async () => {
  net = await startTestNet({ boards: 2, live: true, blockIntervalMs: 250, emptyBlockIntervalMs: 400 });
  // A short span: 8 readings 0.3 s apart, about two seconds from first to last.
  for (let i = 0; i < readings; i++) {
    net.boards[0].reading(2, pressure(i));
    net.boards[1].reading(0, temperature(i));
    await Promise.all([...net.boards.map((b) => b.idle(20_000)), new Promise((r) => setTimeout(r, 300))]);
  }
  ({ browser, page, pageErrors } = await openBrowser({ width: 1000, height: 900, consoleErrors: false }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await net?.close();
});

interface AxisGeometry {
  labels: string[];
  widths: number[];
  /** Left edge of the y labels' room, in CSS px: the axis size minus ticks and gap. */
  room: number;
  positions: number[];
}

/** What uPlot drew: each axis's labels, their measured widths in the axis font, and where they are. */
function axes(p: Page): Promise<{ x: AxisGeometry; y: AxisGeometry; legend: string[] }> {
  return p.evaluate(() => {
    // uPlot keeps what it last drew on each axis: _values (labels), _splits (tick values), _size (px).
    const u = (document.querySelector('[data-testid="chart"]') as HTMLElement & { uplot: any }).uplot; // eslint-disable-line @typescript-eslint/no-explicit-any
    const ctx = document.createElement("canvas").getContext("2d")!;
    const geometry = (i: number, scale: string) => {
      const a = u.axes[i];
      ctx.font = a.font[0];
      const labels: string[] = a._values ?? [];
      return {
        labels,
        widths: labels.map((l) => ctx.measureText(l).width / devicePixelRatio),
        room: a._size - a.ticks.size - a.gap,
        positions: (a._splits ?? []).map((v: number) => u.valToPos(v, scale)),
      };
    };
    return { x: geometry(0, "x"), y: geometry(1, "y"), legend: [...document.querySelectorAll(".u-legend .u-value")].map((e) => e.textContent ?? "") };
  });
}

async function openDevice(deviceIdHex: string): Promise<void> {
  // A new document: changing only the hash would leave the previous device's chart (also 8 points)
  // on the page until the dashboard re-renders, and the checks below could read that one.
  await page.goto("about:blank");
  await page.goto(`${net.url}/dashboard/#/devices/${deviceIdHex}`);
  const chart = page.getByTestId("chart");
  await chart.waitFor({ timeout: 15_000 });
  await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: 15_000 }).toBe(readings);
}

function expectAxesReadable(g: { x: AxisGeometry; y: AxisGeometry }, yLabel: RegExp): void {
  expect(g.y.labels.length).toBeGreaterThan(1);
  for (const l of g.y.labels) expect(l).toMatch(yLabel);
  // Every y label fits in the room its axis has: nothing cut off on the canvas's left edge.
  expect(Math.max(...g.y.widths), `y labels ${g.y.labels.join(" | ")} in ${g.y.room} px`).toBeLessThanOrEqual(g.y.room);
  // x labels: distinct, and centred labels do not touch their neighbours.
  expect(g.x.labels.length).toBeGreaterThan(1);
  expect(new Set(g.x.labels).size, g.x.labels.join(" | ")).toBe(g.x.labels.length);
  for (let i = 1; i < g.x.labels.length; i++) {
    const room = g.x.positions[i] - g.x.positions[i - 1];
    expect(room, `x labels ${g.x.labels[i - 1]} and ${g.x.labels[i]}`).toBeGreaterThan((g.x.widths[i - 1] + g.x.widths[i]) / 2);
  }
}

describe("device chart in Chromium", () => {
  it("pressure near 101,560 Pa: whole y labels, readable x labels over two seconds, the latest value in the legend", async () => {
    await openDevice(net.boards[0].deviceIdHex);
    const g = await axes(page);
    expectAxesReadable(g, /^1\d\d,\d{3}(\.\d+)? Pa$/);
    // Not hovering: the legend shows the latest reading, not dashes.
    expect(g.legend[1]).toBe(`${pressure(readings - 1).toLocaleString("en-US")} Pa`);
    expect(g.legend.join(" ")).not.toContain("—");
    // Hovering the first point shows that point.
    const over = (await page.locator(".u-over").boundingBox())!;
    await page.mouse.move(over.x + 2, over.y + over.height / 2);
    await expect.poll(async () => (await axes(page)).legend[1]).toBe(`${pressure(0).toLocaleString("en-US")} Pa`);
  });

  it("temperature near 21.4 Cel: whole y labels", async () => {
    await openDevice(net.boards[1].deviceIdHex);
    const g = await axes(page);
    expectAxesReadable(g, /^2\d\.\d+ Cel$/);
    expect(g.legend[1]).toBe(`${temperature(readings - 1)} Cel`);
    expect(pageErrors).toEqual([]);
  });
});

describe("validators table in Chromium", () => {
  it("a validator missing from the head certificate gets a neutral mark and the quorum explained, not a red ✗", async () => {
    // Four validators, quorum 3: the head certificate carries three signatures, one is missing.
    await page.route("**/v1/validators", async (route) => {
      const response = await route.fetch();
      const v = await response.json();
      const fake = (n: number, signedHead: boolean) => ({ ...v.validators[0], id: String(n).repeat(32), publicKey: String(n).repeat(64), rank: n, endpoint: `127.0.0.1:740${n}`, proposing: false, signedHead });
      v.validators = [{ ...v.validators[0], signedHead: true }, fake(1, true), fake(2, false), fake(3, true)];
      v.quorum = 3;
      await route.fulfill({ response, json: v });
    });
    await page.goto(`${net.url}/dashboard/#/`);
    const card = page.locator("section.card", { has: page.locator("h2", { hasText: "Validators" }) });
    await card.locator("tbody tr").nth(3).waitFor({ timeout: 15_000 });
    expect(await card.locator(".cross").count()).toBe(0);
    expect(await card.locator('[data-signed="yes"]').count()).toBe(3);
    const missing = card.locator('[data-signed="no"]');
    expect(await missing.count()).toBe(1);
    expect(await missing.getAttribute("title")).toContain("a certificate needs only a quorum (3 of 4)");
    expect(await missing.getAttribute("class")).toBe("neutral");
    expect(await card.getByTestId("certificate-note").textContent()).toContain("needs only a quorum (3 of 4)");
    // The dashboard polls: a request may be in this handler right now; let it finish before unrouting.
    await page.unrouteAll({ behavior: "wait" });
  });
});
