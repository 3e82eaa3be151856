// A rollout over the air watched in the dashboard (issue 11): `npm start`'s network, shortened (4 PBFT
// gateway processes, boards running the real firmware over UDP, each provisioned with this build's
// firmware.wasm as v1 signed by net/publisher.key.json). The `mote` CLI signs v2 with that publisher key
// (the same bytes: the version is the manifest's), publishes it and rolls it out to every device of the
// owner, a few at a time; Chromium watches the Firmware view until the fleet is on v2 and the rollout
// complete. Then an image that traps in init, rolled out to one device: its boot loader goes back to v2
// and the view shows the failed attempt with its reason (TRAP). Screenshots go to test-output/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { openBrowser } from "../support/chromium.ts";
import { trapInInit } from "../support/firmware-images.ts";
import { defaultFirmwarePath } from "../../hardware/emulator/firmware.ts";
import { until } from "../support/until.ts";
import { fixedDevnetPorts } from "../support/ports.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const outDir = join(root, "test-output");
const devices = 6; // over UDP; npm start's 20 is scripts/firmware-rollout-screenshot.ts
const ports = fixedDevnetPorts.firmwareRollout; // apart from the other npm start tests, below the ephemeral range
const api = `http://127.0.0.1:${ports.api}`;
const rolloutMs = 120_000;

let start: ChildProcess;
let output = "";
let dir = "";
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

/** The CLI from its sources (the tests run TypeScript; dist/ may be older than the tree). */
async function mote(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(root, "gateway", "cli", "main.ts"), ...args], { cwd: root, timeout: 60_000 });
  return stdout;
}

const field = (out: string, name: string): string => {
  const m = new RegExp(`^${name}\\s+(\\S+)`, "m").exec(out);
  if (!m) throw new Error(`no "${name}" in:\n${out}`);
  return m[1];
};

async function json(path: string): Promise<any> {
  const res = await fetch(`${api}${path}`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  return res.json();
}


const net = (file: string) => join(dir, "net", file);

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), "mote-fw-rollout-"));
  const args = ["--dir", dir, "--fresh", "--devices", String(devices), "--no-serial", "--no-board", "--interval", "1", "--duration", "400"];
  args.push("--udp-port", String(ports.udp), "--p2p-port", String(ports.p2p), "--api-port", String(ports.api));
  start = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "start.ts"), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  start.stdout!.on("data", (b) => (output += b));
  start.stderr!.on("data", (b) => (output += b));
  const deadline = Date.now() + 120_000;
  while (!output.includes("Ctrl-C to stop")) {
    if (start.exitCode !== null) throw new Error(`npm start exited early (code ${start.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up in 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  ({ browser, page, pageErrors } = await openBrowser());
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (start && start.exitCode === null) {
    const exited = new Promise((r) => start.once("exit", r));
    start.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (start.exitCode === null) start.kill("SIGKILL");
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** The Firmware view's fleet: version → device count. */
const fleetShown = () =>
  page.$$eval('[data-testid="fleet-version"]', (rows) => Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.version!, Number((r as HTMLElement).dataset.devices)])));

describe("a firmware rollout watched in the dashboard", () => {
  it("shows the fleet on v1 as the boards report it, with no release yet", async () => {
    // Each board reports its version in its readings after boot until a gateway acknowledges one.
    await until("every board reporting v1 on chain", async () => ((await json("/v1/firmware/fleet")).versions.some((v: { version: number; devices: number }) => v.version === 1 && v.devices === devices) ? true : undefined), 60_000);
    await page.goto(`${api}/dashboard/#/firmware`);
    await page.getByTestId("fleet-version").first().waitFor({ timeout: 15_000 });
    await expect.poll(fleetShown, { timeout: 10_000 }).toEqual({ 1: devices });
    expect(await page.locator("text=No releases yet").count()).toBe(1);
    expect(await page.locator("a.active[data-nav=firmware]").count()).toBe(1);
  });

  it("rolls v2 out from the CLI, a few at a time, and the view follows it to the whole fleet on v2", async () => {
    const v2 = join(dir, "v2.cose");
    const signed = await mote("firmware", "sign", defaultFirmwarePath, "--key", net("publisher.key.json"), "--version", "2", "--text", "2.0.0", "--out", v2);
    const imageId = field(signed, "image id");
    // The publisher key only signs; the owner's account pays for the transactions.
    const released = await mote("firmware", "release", v2, "--image", defaultFirmwarePath, "--key", net("owner.key.json"), "--api", api);
    expect(released).toMatch(/finalized in block \d+/);
    const owner = JSON.parse(readFileSync(net("owner.key.json"), "utf8")).id as string;
    const rolled = await mote("firmware", "rollout", imageId, "--owner", owner, "--key", net("owner.key.json"), "--in-flight", "2", "--api", api);
    expect(field(rolled, "targets")).toBe(String(devices));

    const rollout = page.locator('[data-testid="rollout"][data-number="1"]');
    await rollout.waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid="release"]').first().textContent()).toContain(imageId);
    await page.screenshot({ path: join(outDir, "firmware-rollout-started.png"), fullPage: true });
    await expect.poll(() => rollout.getAttribute("data-state"), { timeout: rolloutMs, interval: 1000 }).toBe("complete");
    expect(await rollout.getAttribute("data-updated")).toBe(String(devices));
    expect(await rollout.getAttribute("data-failed")).toBe("0");
    await expect.poll(fleetShown, { timeout: 15_000 }).toEqual({ 2: devices });
    expect(await page.getByTestId("fw-on-newest").textContent()).toBe(`${devices} / ${devices}`);
    expect(await page.locator("text=No failed attempts").count()).toBe(1); // no device was offered v2 twice
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(outDir, "firmware-rollout.png"), fullPage: true });

    // The chain agrees, and so does the CLI.
    const status = await mote("firmware", "status", "1", "--api", api);
    expect(field(status, "updated")).toBe(String(devices));
    expect(status.match(/ updated /g)).toHaveLength(devices);
  }, rolloutMs + 60_000);

  it("an image that traps in init, rolled out to one device: back on v2, the failure and its reason shown", async () => {
    const target = (await json("/v1/firmware/fleet")).devices[0].deviceId as string;
    const image = join(dir, "v3-traps.wasm");
    writeFileSync(image, await trapInInit());
    const v3 = join(dir, "v3.cose");
    const imageId = field(await mote("firmware", "sign", image, "--key", net("publisher.key.json"), "--version", "3", "--out", v3), "image id");
    await mote("firmware", "release", v3, "--image", image, "--key", net("owner.key.json"), "--api", api);
    await mote("firmware", "rollout", imageId, "--device", target, "--key", net("owner.key.json"), "--api", api);

    const rollout = page.locator('[data-testid="rollout"][data-number="2"]');
    await rollout.waitFor({ timeout: 15_000 });
    await expect.poll(() => rollout.getAttribute("data-failed"), { timeout: rolloutMs, interval: 1000 }).toBe("1");
    expect(await rollout.getAttribute("data-state")).toBe("complete");
    expect(await rollout.locator(`[data-testid="rollout-failure"][data-device="${target}"]`).textContent()).toContain("TRAP");
    const failure = page.locator(`[data-testid="failure"][data-device="${target}"]`);
    await failure.waitFor({ timeout: 10_000 });
    expect(await failure.getAttribute("data-reason")).toBe("TRAP");
    await expect.poll(fleetShown, { timeout: 15_000 }).toEqual({ 2: devices }); // the boot loader went back to v2
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(outDir, "firmware-rollout-failure.png"), fullPage: true });

    // The device's own page: its version and the failed attempt.
    await failure.locator("a").first().click();
    const fw = page.getByTestId("device-firmware");
    await fw.waitFor({ timeout: 10_000 });
    expect(await fw.getAttribute("data-version")).toBe("2");
    expect(await fw.textContent()).toContain("v3 failed: TRAP");
    expect(pageErrors).toEqual([]);
  }, rolloutMs + 60_000);
});
