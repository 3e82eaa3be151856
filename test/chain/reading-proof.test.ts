// Per-device reading logs (RFC 6962 shape) and reading proofs against a header: the log's root
// and audit paths agree with shared/merkle.ts; random readings prove present or absent; any
// tampering fails.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toHex } from "../../shared/ed25519.ts";
import { inclusionProof, leafHash, merkleRoot } from "../../shared/merkle.ts";
import { logAppend, logAuditPath, logRoot, type LogNode } from "../../gateway/chain/device-log.ts";
import { proveReading, verifyReadingAbsent, verifyReadingPresent } from "../../gateway/chain/reading-proof.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import { addBatch, deviceReading, makeFixture, openChain } from "./fixture.ts";
import { rng } from "./random-txs.ts";

describe("device log", () => {
  it("keeps the RFC 6962 root and audit paths of shared/merkle.ts as it grows", () => {
    const device = new Uint8Array(16);
    const stored = new Map<string, Uint8Array>();
    const reader = { logNode: (_: Uint8Array, level: number, index: number) => stored.get(`${level}/${index}`) };
    let frontier: Uint8Array[] = [];
    const leaves: Uint8Array[] = [];
    for (let n = 0; n < 130; n++) {
      expect(toHex(logRoot(frontier))).toBe(toHex(merkleRoot(leaves)));
      for (let i = 0; i < n; i += 1 + (n >> 3)) expect(logAuditPath(reader, device, i, n)).toEqual(inclusionProof(leaves, i));
      const data = Uint8Array.of(n, n >> 8);
      const appended = logAppend(device, frontier, n, data);
      appended.nodes.forEach((x: LogNode) => stored.set(`${x.level}/${x.index}`, x.hash));
      frontier = appended.frontier;
      leaves.push(leafHash(data));
    }
  });
});

describe("reading proofs", () => {
  const f = makeFixture({ label: "reading-proof", devices: 3 });
  const { chain, mempool } = openChain(f);
  let now = f.genesis.genesisTimeMs + 1000;
  const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now });
  const next = rng(99);
  const onChain = new Set<string>();
  const seq = [0, 0, 0];
  for (let b = 0; b < 12; b++) {
    const readings = Array.from({ length: 1 + Math.floor(next() * 10) }, () => {
      const d = Math.floor(next() * 3);
      seq[d] += 1 + Math.floor(next() * 3); // gaps, as after lost radio frames
      onChain.add(`${d}/${seq[d]}`);
      return { bytes: deviceReading(f.devices[d], seq[d]), receivedAtMs: now };
    });
    addBatch(mempool, f.gateways[0], readings, now);
    producer.produce();
    now += 1000;
  }
  const header = chain.head().header;

  it("proves random readings present or absent against the header's state root", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 45 }), (d, s) => {
        const id = d < 3 ? f.devices[d].id : new Uint8Array(16).fill(9); // d = 3: not enrolled
        const p = proveReading(chain, id, s);
        const present = onChain.has(`${d}/${s}`);
        expect(verifyReadingPresent(header, id, s, p) !== undefined).toBe(present);
        expect(verifyReadingAbsent(header, id, s, p)).toBe(!present);
      }),
      { numRuns: 300 },
    );
  });

  it("fails tampered proofs", () => {
    const id = f.devices[0].id;
    const s = [...onChain].filter((k) => k.startsWith("0/")).map((k) => Number(k.slice(2)))[3];
    const p = proveReading(chain, id, s);
    expect(verifyReadingPresent(header, id, s, p)).toBeDefined();
    const e = p.entries[0];
    const tampered = [
      { ...p, entries: [{ ...e, index: e.index + 1 }] },
      { ...p, entries: [{ ...e, path: e.path.map((x, i) => (i === 0 ? x.map((b) => b ^ 1) : x)) }] },
      { ...p, entries: [{ ...e, reading: { ...e.reading, receivedAtMs: e.reading.receivedAtMs + 1 } }] },
      { ...p, device: { ...p.device, value: p.device.value!.map((b, i) => (i === 5 ? b ^ 1 : b)) } },
      { ...p, entries: [] },
    ];
    for (const t of tampered) expect(verifyReadingPresent(header, id, s, t)).toBeUndefined();
    // Claiming absence of a present reading with its neighbours fails too.
    const below = proveReading(chain, id, s - 1);
    expect(verifyReadingAbsent(header, id, s, { ...below, entries: below.entries.slice(0, 1) })).toBe(false);
  });
});
