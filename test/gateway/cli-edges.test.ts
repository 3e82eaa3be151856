// Rough edges of `mote` a new user hit (issue 14), each through the real CLI process: a device run
// that never ended against a silent gateway, a missing flash directory that silently became a
// new device, stack traces for bad arguments, unchecked numbers, a world-readable seed.
import { execFile } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { encodeEnrollment } from "../../shared/enrollment.ts";
import { fromHex } from "../../shared/ed25519.ts";
import { startTestGateway, tempDir } from "../support/gateway-fixtures.ts";

const cli = fileURLToPath(new URL("../../gateway/cli/main.ts", import.meta.url));
const processTimeoutMs = 90_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it; resolves with its exit code whatever it is (null: killed on timeout). */
function mote(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", cli, ...args], { timeout: processTimeoutMs, env: { ...process.env, ...env } }, (e, stdout, stderr) => {
      const code = e ? ((e as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === "number" ? code : null, stdout, stderr });
    });
  });
}

const stackLine = /^\s+at .+\(?.+:\d+:\d+\)?$/m;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function scratch(): string {
  const dir = tempDir("mote-cli-edges-");
  cleanups.push(() => dir.remove());
  return dir.path;
}

/** A UDP port where nothing ever answers: a gateway that is down but whose host is up. */
async function silentGateway(): Promise<{ port: number; datagrams: Buffer[] }> {
  const socket: Socket = createSocket("udp4");
  const datagrams: Buffer[] = [];
  socket.on("message", (m) => datagrams.push(m));
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { port: socket.address().port, datagrams };
}

describe("mote device run", () => {
  it("--count 1 against a gateway that never answers: one reading, then exit 3 once CoAP gives up", async () => {
    const silent = await silentGateway();
    const flash = join(scratch(), "board");
    // --clock-speed 20: the firmware's RFC 7252 timers as written (62-93 s to give up), 20 times sooner.
    const run = await mote(["device", "run", "--flash", flash, "--create", "--gateway", `127.0.0.1:${silent.port}`, "--count", "1", "--interval", "0.2", "--clock-speed", "20"]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/1 reading\(s\) not acknowledged by 127\.0\.0\.1:\d+ after 5 transmissions \(CoAP MAX_RETRANSMIT = 4/);
    expect(run.stderr).not.toMatch(stackLine);
    expect(run.stdout).toMatch(/signed 1, acknowledged 0, refused 0/);
    expect(run.stdout).not.toMatch(/signed [2-9]/);
    // One confirmable POST and its 4 retransmissions: the same message id, the same bytes.
    expect(silent.datagrams).toHaveLength(5);
    expect(new Set(silent.datagrams.map((d) => d.toString("hex"))).size).toBe(1);
  });

  it("refuses a missing flash directory unless --create; a refusal by the gateway is explained and exits 4", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const flash = join(scratch(), "no-such-board");
    const missing = await mote(["device", "run", "--flash", flash, "--gateway", `127.0.0.1:${gw.port}`, "--count", "1"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`flash directory ${flash} does not exist`);
    expect(missing.stderr).toContain("--create");
    expect(existsSync(flash)).toBe(false); // no new identity was made behind the user's back

    const unknown = await mote(["device", "run", "--flash", flash, "--create", "--gateway", `127.0.0.1:${gw.port}`, "--count", "1", "--interval", "0.2"]);
    expect(unknown.code, unknown.stderr).toBe(4);
    expect(unknown.stderr).toMatch(/refused 1 of 1 reading\(s\) from device [0-9a-f]{32}: 4\.03 Forbidden: the device is not enrolled at this gateway/);
    expect(unknown.stderr).toContain("mote device enroll");
    expect(unknown.stderr).not.toMatch(stackLine);

    // Enrolled, the same flash directory (no --create needed now) gets its reading acknowledged.
    const publicKey = /public key ([0-9a-f]{64})/.exec(unknown.stdout)![1];
    gw.gw.enrollment.enroll(encodeEnrollment(gw.owner.privateKey, gw.owner.publicKey, fromHex(publicKey)));
    const ok = await mote(["device", "run", "--flash", flash, "--gateway", `127.0.0.1:${gw.port}`, "--count", "1", "--interval", "0.2"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/signed 1, acknowledged 1, refused 0/);
  });

  it("writes the device's seed (slot 0) mode 0600 in a 0700 directory, as key files are", async () => {
    const flash = join(scratch(), "board");
    const r = await mote(["device", "keygen", "--flash", flash]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(flash, "slot-0.bin")).mode & 0o777).toBe(0o600);
    expect(statSync(join(flash, "slot-1.bin")).mode & 0o777).toBe(0o600);
    expect(statSync(flash).mode & 0o777).toBe(0o700);
  });
});

describe("mote usage errors", () => {
  it("say what was wrong and what to give instead, without a stack trace, and exit 2", async () => {
    const flash = join(scratch(), "board");
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [["device", "run", "--flash", flash, "--gateway", "localhost"], /"localhost" is not host:port: give the gateway's CoAP address with its port, e\.g\. 127\.0\.0\.1:5683/],
      [["device", "run", "--flash", flash, "--sensor", "99"], /"99" is not a catalog sensor: give a whole number from 0 to 5/],
      [["device", "run", "--flash", flash, "--interval", "abc"], /"abc" is not a number of seconds/],
      [["device", "run", "--flash", flash, "--count", "1.5"], /"1\.5" is not a reading count/],
      [["status", "--api", "notaurl"], /"notaurl" is not an http\(s\) URL: give the gateway API's address, e\.g\. http:\/\/127\.0\.0\.1:8080/],
      [["status"], /"notaurl" is not an http\(s\) URL: give the gateway API's address with --api or MOTE_API/, { MOTE_API: "notaurl" }],
      [["device", "show", "xyz"], /"xyz" is not a device id: give its 32 hex digits/],
    ];
    // Two at a time: each is a Node process compiling TypeScript, on a machine other tests share.
    const runs: Run[] = [];
    for (let i = 0; i < cases.length; i += 2) runs.push(...(await Promise.all(cases.slice(i, i + 2).map(([args, , env]) => mote(args, env)))));
    runs.forEach((r, i) => {
      const [args, message] = cases[i];
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr, args.join(" ")).not.toMatch(stackLine);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
    });
    expect(existsSync(flash)).toBe(false);
  });

  it("an unreachable API is a failure (exit 1) with a message, not a stack trace", async () => {
    const r = await mote(["status", "--api", "http://127.0.0.1:1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the gateway API at http:\/\/127\.0\.0\.1:1 .*is the gateway running\?/);
    expect(r.stderr).not.toMatch(stackLine);
  });
});
