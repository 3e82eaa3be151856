// Issue 14 item 2 on a real network: 4 PBFT gateway processes (npm start's devnet) and a fleet in
// both reading formats, finalizing on one chain.
//   - boards running the real firmware: compact readings (format 2), first under the device id, then,
//     once a gateway's 2.01 told them (Short-Kid option), under the short kid the chain assigned;
//   - an old-format device (a host-side signer producing format 1, as firmware before issue 14 did);
//   - a host-side compact signer that is told its short kid and uses it, and an unknown short kid
//     that every gateway refuses with 4.04 (the firmware's cue to forget it).
// Every reading is checked from the chain: provenance verified on another gateway than the one it
// was sent to, its exact bytes in the format it was sent in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Devnet } from "../../gateway/devnet/devnet.ts";
import { ApiClient } from "../../gateway/cli/api-client.ts";
import { submitTx, waitFinalized } from "../../gateway/cli/tx-author.ts";
import { option } from "../../gateway/coap/message.ts";
import { contentFormat } from "../../shared/constants.ts";
import { deviceIdFromPublicKey, privateKeyObject, publicKeyFromSeed, toHex } from "../../shared/ed25519.ts";
import { decodeReading, encodeCompactReading, encodeReading } from "../../shared/reading.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { randomBytes } from "node:crypto";
import { until } from "../support/until.ts";
import { fixedDevnetPorts } from "../support/ports.ts";

const ports = fixedDevnetPorts.compactNet;
let dir = "";
let devnet: Devnet;

async function json(gateway: number, path: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${ports.api + gateway - 1}${path}`, { signal: AbortSignal.timeout(5_000) });
  return res.json();
}

async function post(gateway: number, payload: Uint8Array, format?: number) {
  const client = await TestCoapClient.open(ports.udp + gateway);
  try {
    return await client.request({ method: "POST", path: format === undefined ? "" : "r", payload, contentFormat: format });
  } finally {
    await client.close();
  }
}


/** A device the test signs for; enrolled on chain by the network's owner. */
async function hostDevice(name: string) {
  const seed = randomBytes(32);
  const publicKey = publicKeyFromSeed(seed);
  const api = new ApiClient(`http://127.0.0.1:${ports.api}`);
  const sent = await submitTx(api, join(dir, "net", "owner.key.json"), { kind: "enrollDevice", devicePublicKey: publicKey, metadata: new Map([["name", name]]), ttlDays: 0 });
  await waitFinalized(api, sent.id, 60_000);
  const deviceId = deviceIdFromPublicKey(publicKey);
  // Finalized is gateway 1's word: each gateway takes the device from its own committed head, which
  // can trail gateway 1's by a vote's flight. A reading posted to a gateway a moment behind got 4.03
  // (1 run in 10).
  for (const g of [1, 2, 3, 4]) {
    await until(`device ${toHex(deviceId).slice(0, 8)} enrolled on gateway ${g}`, async () => {
      const res = await fetch(`http://127.0.0.1:${ports.api + g - 1}/v1/devices/${toHex(deviceId)}`, { signal: AbortSignal.timeout(5_000) });
      return res.ok ? true : undefined;
    });
  }
  return { key: privateKeyObject(seed), deviceId };
}

/** The reading (device, seq) finalized and verified, as gateway `g` proves it. */
const finalized = (g: number, deviceId: string, seq: number) =>
  until(`reading ${deviceId.slice(0, 8)}/${seq} finalized on gateway ${g}`, async () => {
    const p = await json(g, `/v1/devices/${deviceId}/readings/${seq}`);
    return p.verified === true ? p : undefined;
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mote-compact-"));
  devnet = await Devnet.start({ dir, fresh: true, gateways: 4, devices: 2, serialDevice: false, qemuBoard: false, readingIntervalMs: 1000, basePorts: ports, progress: () => {} });
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a fleet with both reading formats on one network", () => {
  it("old-format, long-kid compact and short-kid compact readings all finalize; an unknown short kid is refused with 4.04", async () => {
    // The old-format device: format 1 to /r with Content-Format 18, exactly as before issue 14.
    const legacy = await hostDevice("legacy");
    const legacyHex = toHex(legacy.deviceId);
    const old = encodeReading(legacy.key, legacy.deviceId, 7, [{ name: "temp", unit: "Cel", value: 19.25 }]);
    const oldReply = await post(2, old, contentFormat.coseSign1);
    expect(oldReply.code).toBe("2.01");
    expect(oldReply.options.find((o) => o.number === option.shortKid)).toBeUndefined(); // old firmware is never taught
    const oldOnChain = await finalized(4, legacyHex, 7);
    expect(oldOnChain.reading.cose).toBe(toHex(old));
    expect(decodeReading(old).format).toBe(1);

    // A compact host-side device: under its id first, the 2.01 tells it the short kid the chain gave it.
    const compact = await hostDevice("compact");
    const compactHex = toHex(compact.deviceId);
    const shortKid = (await json(1, `/v1/devices/${compactHex}`)).shortKid as string;
    expect(shortKid).toMatch(/^[0-9a-f]{2,8}$/);
    const longReply = await post(3, encodeCompactReading(compact.key, compact.deviceId, 1, [{ name: "hum", unit: "%RH", value: 40 }]));
    expect(longReply.code).toBe("2.01");
    expect(toHex(longReply.options.find((o) => o.number === option.shortKid)!.value)).toBe(shortKid);
    const short = encodeCompactReading(compact.key, Buffer.from(shortKid, "hex"), 2, [{ name: "hum", unit: "%RH", value: 41 }]);
    const shortReply = await post(4, short);
    expect(shortReply.code).toBe("2.01");
    expect(shortReply.options.find((o) => o.number === option.shortKid)).toBeUndefined();
    const shortOnChain = await finalized(1, compactHex, 2);
    expect(shortOnChain.reading.cose).toBe(toHex(short));
    expect(shortOnChain.reading.records).toEqual([{ name: "hum", unit: "%RH", value: 41 }]);
    await finalized(2, compactHex, 1);

    // A short kid no device holds: 4.04 on every gateway, nothing recorded.
    const unknown = encodeCompactReading(compact.key, Uint8Array.of(0xff, 0xff, 0xff), 3, [{ name: "hum", unit: "%RH", value: 1 }]);
    for (const g of [1, 2, 3, 4]) expect((await post(g, unknown)).code).toBe("4.04");

    // The boards (real firmware) learn their short kids and keep finalizing under them.
    for (const m of devnet.fleet.members) {
      const id = m.board.deviceIdHex;
      const kid = (await json(2, `/v1/devices/${id}`)).shortKid as string;
      const slot = join(m.board.options.dataDir, "slot-2.bin");
      await until(`board ${id.slice(0, 8)} learned its short kid`, async () => (existsSync(slot) && readFileSync(slot).length > 0 ? true : undefined));
      expect(readFileSync(slot).toString("hex")).toBe(kid);
      const learnedAt = m.board.stat("readingsSigned");
      const seq = await until(`board ${id.slice(0, 8)} has a short-kid reading on chain`, async () => {
        const d = await json(3, `/v1/devices/${id}`);
        return d.lastSequence >= learnedAt ? d.lastSequence : undefined;
      });
      const p = await finalized(3, id, seq);
      const onChain = decodeReading(Buffer.from(p.reading.cose, "hex"), () => Buffer.from(id, "hex"));
      expect(toHex(onChain.kid)).toBe(kid);
    }
    // Nothing was refused along the way: every board reading was acknowledged or is still in flight.
    for (const m of devnet.fleet.members) expect(m.board.stat("readingsRejected")).toBe(0);
  }, 180_000);
});
