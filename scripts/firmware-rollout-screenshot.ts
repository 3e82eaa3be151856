// The README's firmware screenshot (docs/firmware-rollout.png), from a real rollout on a running
// `npm start` network: the `mote` CLI signs this build's firmware.wasm as the next version with the
// network's publisher key (<dir>/net/publisher.key.json), publishes it and rolls it out with the owner
// key (<dir>/net/owner.key.json) to npm start's simulated UDP boards (named mote-01 … mote-NN); Debian's
// Chromium watches the dashboard's Firmware view until the rollout is complete and takes the picture.
//
//   npx tsx scripts/firmware-rollout-screenshot.ts [--dir .moteledger] [--api http://127.0.0.1:8080] [--out docs/firmware-rollout.png]
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Command } from "commander";
import { chromium } from "playwright-core";
import { defaultFirmwarePath } from "../hardware/emulator/firmware.ts";
import { nodeArgsFor, packageRoot } from "../shared/package-paths.ts";

const o = new Command("firmware-rollout-screenshot")
  .description("roll this build's firmware out to npm start's UDP boards and screenshot the dashboard's Firmware view")
  .option("--dir <dir>", "npm start's data directory (its net/ holds the keys)", ".moteledger")
  .option("--api <url>", "a gateway's API (npm start's gateway 1)", "http://127.0.0.1:8080")
  .option("--out <png>", "where to write the screenshot", "docs/firmware-rollout.png")
  .option("--in-flight <n>", "devices offered the update at a time", "5")
  .option("--timeout <s>", "give up when the rollout is not complete after this long", "600")
  .parse(process.argv.slice(2), { from: "user" })
  .opts<{ dir: string; api: string; out: string; inFlight: string; timeout: string }>();

const started = Date.now();
const say = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);

/** The `mote` CLI in the form this script runs in (compiled or from sources). */
async function mote(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgsFor("gateway/cli/main.ts"), ...args], { cwd: packageRoot, timeout: 120_000 });
  return stdout;
}

async function api(path: string): Promise<any> {
  const res = await fetch(new URL(path, o.api), { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

const field = (out: string, name: string): string => {
  const m = new RegExp(`^${name}\\s+(\\S+)`, "m").exec(out);
  if (!m) throw new Error(`no "${name}" in the CLI's output:\n${out}`);
  return m[1];
};

const key = (name: string) => join(o.dir, "net", name);
const owner = JSON.parse(readFileSync(key("owner.key.json"), "utf8")).id as string;
const listed: { id: string; status: string; metadata: Record<string, string> }[] = (await api("/v1/devices?limit=100")).items;
const targets = listed.filter((d) => d.status === "active" && /^mote-\d+$/.test(d.metadata.name ?? "")).map((d) => d.id);
if (targets.length === 0) throw new Error(`no npm start UDP boards (mote-NN) enrolled on ${o.api}`);
const releases: { version: number }[] = (await api("/v1/firmware/releases")).items;
const fleet: { versions: { version: number }[] } = await api("/v1/firmware/fleet");
const version = Math.max(1, ...releases.map((r) => r.version), ...fleet.versions.map((v) => v.version)) + 1;
say(`${targets.length} boards to update, to v${version}`);

const work = mkdtempSync(join(tmpdir(), "mote-fw-shot-"));
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
try {
  const manifest = join(work, `v${version}.cose`);
  const imageId = field(await mote("firmware", "sign", defaultFirmwarePath, "--key", key("publisher.key.json"), "--version", String(version), "--text", `${version}.0.0`, "--out", manifest), "image id");
  say(`mote firmware sign: image id ${imageId}`);
  say(`mote firmware release: ${(await mote("firmware", "release", manifest, "--image", defaultFirmwarePath, "--key", key("owner.key.json"), "--api", o.api)).trim().split("\n").at(-1)}`);
  const rolled = await mote("firmware", "rollout", imageId, "--device", ...targets, "--in-flight", o.inFlight, "--key", key("owner.key.json"), "--api", o.api);
  say(`mote firmware rollout: ${rolled.trim().split("\n").at(-1)}`);
  const number = (await api("/v1/firmware/rollouts")).items.find((r: { imageId: string; author: string }) => r.imageId === imageId && r.author === owner)?.number;
  if (!number) throw new Error(`the rollout of ${imageId} is not on chain`);

  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(new URL("/dashboard/#/firmware", o.api).href);
  const rollout = page.locator(`[data-testid="rollout"][data-number="${number}"]`);
  await rollout.waitFor({ timeout: 30_000 });
  for (let last = ""; ; ) {
    const r = await api(`/v1/firmware/rollouts/${number}`);
    const line = `rollout ${number}: ${r.counts.updated} updated, ${r.counts.failed} failed, ${r.counts.offered} offered, ${r.counts.waiting} waiting`;
    if (line !== last) say((last = line));
    if ((await rollout.getAttribute("data-state")) === "complete") break;
    if (Date.now() - started > Number(o.timeout) * 1000) throw new Error(`not complete after ${o.timeout} s: ${line}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  await page.waitForTimeout(1500); // the bars' transitions
  await page.screenshot({ path: o.out });
  say(`wrote ${o.out}`);
  console.log(await mote("firmware", "status", "--api", o.api));
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}
