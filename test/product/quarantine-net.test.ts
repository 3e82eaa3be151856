// Quarantine reached by gateways' reports on a real network (issue 13 item 4): 4 PBFT gateway
// processes (npm start's devnet) with boards running the real firmware. Someone forges readings under
// one device's id to gateways 1 and 2; each counts the bad signatures and reports them on chain by
// itself; with 2 of 4 reporters (f + 1) the device is quarantined in one block, and every gateway
// refuses it from that block on with 4.03 and the reason. The owner lifts it with a signed transaction
// and the device's own readings land again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Devnet } from "../../gateway/devnet/devnet.ts";
import { ApiClient } from "../../gateway/cli/api-client.ts";
import { submitTx, waitFinalized } from "../../gateway/cli/tx-author.ts";
import { contentFormat } from "../../shared/constants.ts";
import { encodeReading } from "../../shared/reading.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { SseClient } from "../api/sse-client.ts";
import { until } from "../support/until.ts";
import { fixedDevnetPorts } from "../support/ports.ts";

const ports = fixedDevnetPorts.quarantineNet;
let dir = "";
let devnet: Devnet;
let deviceId = "";

async function json(gateway: number, path: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${ports.api + gateway - 1}${path}`, { signal: AbortSignal.timeout(5_000) });
  return res.json();
}

/** A reading under the device's id that its key did not sign. */
function forged(sequence: number): Uint8Array {
  const { privateKey } = generateKeyPairSync("ed25519");
  return encodeReading(privateKey, Buffer.from(deviceId, "hex"), sequence, [{ name: "temp", unit: "Cel", value: 99 }]);
}

async function postForged(gateway: number, sequence: number): Promise<string> {
  const client = await TestCoapClient.open(ports.udp + gateway);
  try {
    return (await client.request({ method: "POST", path: "r", payload: forged(sequence), contentFormat: contentFormat.coseSign1 })).code;
  } finally {
    await client.close();
  }
}


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mote-quarantine-"));
  devnet = await Devnet.start({ dir, fresh: true, gateways: 4, devices: 2, serialDevice: false, qemuBoard: false, readingIntervalMs: 1000, basePorts: ports, progress: () => {} });
  deviceId = devnet.fleet.members[0].board.deviceIdHex;
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("quarantine by 2 of 4 gateways' reports", () => {
  it("quarantines the device chain-wide in one block, every gateway refuses it with the reason, and its owner lifts it", async () => {
    // The owner watches the device on gateway 3's event stream.
    const watch = await SseClient.open(`http://127.0.0.1:${ports.api + 2}/v1/stream?events=device&devices=${deviceId}`);
    // Forged readings to gateways 1 and 2 only: bad signatures, counted, reported on chain by each.
    for (let i = 0; i < 12; i++) {
      expect(await postForged(1, 1_000 + i)).toBe("4.01");
      expect(await postForged(2, 2_000 + i)).toBe("4.01");
    }
    const q = await until("the device is quarantined", async () => {
      const d = await json(1, `/v1/devices/${deviceId}`);
      return d.status === "quarantined" ? d.quarantine : undefined;
    });
    expect(q).toMatchObject({ cause: "reports", liftable: true });
    expect(q.reporters).toHaveLength(2);
    // The same block on every gateway: each says quarantined since the same height.
    for (const g of [2, 3, 4]) {
      const d = await until(`gateway ${g} applied the quarantining block`, async () => {
        const d = await json(g, `/v1/devices/${deviceId}`);
        return d.status === "quarantined" ? d : undefined;
      });
      expect(d.quarantine.sinceHeight).toBe(q.sinceHeight);
    }
    // Gateways 3 and 4 never saw the forgeries, yet refuse the device now: 4.03 before any signature check.
    expect(await postForged(3, 3_000)).toBe("4.03");
    expect(await postForged(4, 4_000)).toBe("4.03");

    const owner = join(dir, "net", "owner.key.json");
    const api = new ApiClient(`http://127.0.0.1:${ports.api}`);
    const sent = await submitTx(api, owner, { kind: "liftQuarantine", deviceId: Buffer.from(deviceId, "hex") });
    await waitFinalized(api, sent.id, 60_000);
    const after = await json(4, `/v1/devices/${deviceId}`);
    expect(after.status).toBe("active");
    const before = after.lastSequence;
    await until("the device's own readings land again", async () => {
      const d = await json(1, `/v1/devices/${deviceId}`);
      return d.lastSequence > before ? d : undefined;
    });
    expect(await postForged(3, 3_001)).toBe("4.01"); // back to checking signatures
    await watch.waitFor(() => watch.of("device").some((e: any) => e.kind === "liftQuarantine"), 10_000);
    const kinds = watch.of("device").map((e: any) => e.kind);
    watch.destroy();
    expect(kinds.filter((k) => k === "reportDevice").length).toBeGreaterThanOrEqual(2);
    expect(kinds.at(-1)).toBe("liftQuarantine");
  }, 180_000);
});
