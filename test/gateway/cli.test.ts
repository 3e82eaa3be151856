// The operator's command line against a running gateway process: approve a device queued for
// approval from another process, list devices, and clear messages for a bad configuration.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { toHex } from "../../shared/ed25519.ts";
import { makeKey, tempDir, TestDevice } from "../support/gateway-fixtures.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { startGatewayProcess } from "../support/gateway-process.ts";

const cli = fileURLToPath(new URL("../../gateway/cli/main.ts", import.meta.url));
const mote = (...args: string[]) => promisify(execFile)(process.execPath, ["--import", "tsx", cli, ...args]);
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("mote gateway", () => {
  it("devices approve: a device of an untrusted owner is accepted once an operator approves it", async () => {
    const dir = tempDir("mote-cli-");
    cleanups.push(() => dir.remove());
    const dataDir = `${dir.path}/gw`;
    const gw = await startGatewayProcess(["--data-dir", dataDir, "--udp-host", "127.0.0.1", "--udp-port", "0", "--trust-owner", toHex(makeKey().publicKey)]);
    cleanups.push(() => gw.kill9());
    const client = await TestCoapClient.open(gw.port);
    cleanups.push(() => client.close());
    const d = new TestDevice();
    const post = () => client.request({ method: "POST", path: "r", payload: d.reading(), contentFormat: contentFormat.coseSign1 });
    expect((await client.request({ method: "POST", path: "e", payload: d.enrollment(makeKey()), contentFormat: contentFormat.cbor })).code).toBe("4.03");
    expect((await post()).code).toBe("4.03");
    expect((await mote("gateway", "devices", "list", "--data-dir", dataDir)).stdout).toMatch(new RegExp(`${toHex(d.deviceId)}\\s+pending`));
    expect((await mote("gateway", "devices", "approve", toHex(d.deviceId), "--data-dir", dataDir)).stdout).toContain("is now active");
    expect((await post()).code).toBe("2.01");
    expect((await mote("gateway", "devices", "revoke", toHex(d.deviceId), "--data-dir", dataDir)).stdout).toContain("is now revoked");
    expect((await post()).code).toBe("4.03");
    expect(await gw.stop()).toBe(0);
  });

  it("says what is wrong with a bad config or argument, and exits 1", async () => {
    const dir = tempDir("mote-cli-");
    cleanups.push(() => dir.remove());
    writeFileSync(`${dir.path}/bad.json`, JSON.stringify({ udp: { prot: 5683 } }));
    const err = await mote("gateway", "start", "--config", `${dir.path}/bad.json`, "--data-dir", dir.path).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain(`config "udp.prot": unknown key; known: host, port`);
    const bad = await mote("gateway", "devices", "approve", "xyz", "--data-dir", dir.path).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.stderr).toMatch(/is not a device id: give its 32 hex digits/);
  });
});
