// Devices, readings by time range and a reading's provenance, over real firmware boards whose
// readings went through UDP, ingest, the solo producer and SQLite. The provenance is checked
// twice: by the gateway (its `valid` flags) and here, independently, with @noble/curves and the
// Merkle and state-proof verifiers, from nothing but the response and the validator keys; the
// state link in its two steps: the device record under the state root, the reading in its log.
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attestedLeaf } from "../../shared/attestation.ts";
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { fromHex, sha256, toHex } from "../../shared/ed25519.ts";
import { leafHash, verifyInclusion } from "../../shared/merkle.ts";
import { decodeReading, sigStructure } from "../../shared/reading.ts";
import { encodeHeader } from "../../gateway/chain/block.ts";
import { commitMessage } from "../../gateway/chain/certificate.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
import { verifyReadingPresent } from "../../gateway/chain/reading-proof.ts";
import { newIdentity } from "../../gateway/chain/keyfile.ts";
import { batchBody, deviceReading, signed } from "../chain/fixture.ts";
import { client, expectError } from "./http.ts";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;
let api: ReturnType<typeof client>;
const rounds: { startMs: number; endMs: number }[] = [];

beforeAll(async () => {
  net = await startTestNet({ boards: 3 });
  api = client(net.api);
  // Three rounds of readings with a gap between them, so time ranges can select one round.
  for (const values of [[20.5, 20.75], [21, 21.25], [22, 22.5]]) {
    const startMs = Date.now();
    await net.send(values);
    net.drain();
    rounds.push({ startMs, endMs: Date.now() });
    await new Promise((r) => setTimeout(r, 30));
  }
  // One board also reports humidity: a second SenML name.
  net.boards[0].reading(1, 55);
  await net.boards[0].idle();
  net.drain();
});
afterAll(() => net?.close());

const ids = () => net.boards.map((b) => b.deviceIdHex).sort();

describe("devices", () => {
  it("lists enrolled devices in id order with status, sequence and last reading, page by page", async () => {
    const all = await api.get("/v1/devices");
    expect(all.json.items.map((d: { id: string }) => d.id)).toEqual(ids());
    expect(all.json.next).toBeNull();
    const d0 = all.json.items.find((d: { id: string }) => d.id === net.boards[0].deviceIdHex);
    expect(d0).toMatchObject({ status: "active", lastSequence: 6, readings: 7, evidence: 0, enrolledHeight: 0, owner: toHex(net.owner.id), metadata: { model: "emulator", site: "bench-0" } });
    expect(d0.lastReading.sequence).toBe(6);
    const p1 = await api.get("/v1/devices?limit=2");
    expect(p1.json.items.map((d: { id: string }) => d.id)).toEqual(ids().slice(0, 2));
    expect(p1.json.next).toBe(ids()[1]);
    const p2 = await api.get(`/v1/devices?limit=2&cursor=${p1.json.next}`);
    expect(p2.json.items.map((d: { id: string }) => d.id)).toEqual(ids().slice(2));
    expect(p2.json.next).toBeNull();
    expectError(await api.get("/v1/devices?cursor=zz"), 400, "BAD_REQUEST");
    expectError(await api.get("/v1/devices?limit=501"), 400, "BAD_REQUEST");
  });

  it("shows one device; 404 for one not enrolled, 400 for a malformed id", async () => {
    const b = net.boards[1];
    const r = await api.get(`/v1/devices/${b.deviceIdHex}`);
    expect(r.json).toMatchObject({ id: b.deviceIdHex, publicKey: toHex(b.publicKey), status: "active", lastSequence: 5, readings: 6, ttlDays: 0 });
    expectError(await api.get(`/v1/devices/${"ab".repeat(16)}`), 404, "DEVICE_NOT_FOUND");
    for (const id of ["xyz", "ab".repeat(15), "ab".repeat(17)]) expectError(await api.get(`/v1/devices/${id}`), 400, "BAD_REQUEST");
  });
});

describe("readings", () => {
  it("lists a device's readings in receipt order with their SenML values", async () => {
    const b = net.boards[0];
    const r = await api.get(`/v1/devices/${b.deviceIdHex}/readings`);
    expect(r.status).toBe(200);
    const items = r.json.items as { sequence: number; records: { name: string; unit: string; value: number }[]; receivedAtMs: number; gatewayId: string }[];
    expect(items.map((x) => x.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(items.map((x) => x.records[0].value)).toEqual([20.5, 20.75, 21, 21.25, 22, 22.5, 55]);
    expect(items[0].records[0]).toEqual({ name: "temp", unit: "Cel", value: 20.5 });
    expect(items[6].records[0]).toEqual({ name: "hum", unit: "%RH", value: 55 });
    expect(items.every((x) => x.gatewayId === toHex(net.identity.id))).toBe(true);
    const times = items.map((x) => x.receivedAtMs);
    expect([...times].sort((a, c) => a - c)).toEqual(times);
  });

  it("pages forwards and backwards with a cursor, and selects a time range", async () => {
    const b = net.boards[2];
    const url = `/v1/devices/${b.deviceIdHex}/readings`;
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const r: { json: { items: { sequence: number }[]; next: string | null } } = await api.get(`${url}?limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      seqs.push(...r.json.items.map((x) => x.sequence));
      cursor = r.json.next;
    } while (cursor);
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5]);
    const desc = await api.get(`${url}?order=desc&limit=4`);
    expect(desc.json.items.map((x: { sequence: number }) => x.sequence)).toEqual([5, 4, 3, 2]);
    const rest = await api.get(`${url}?order=desc&limit=4&cursor=${desc.json.next}`);
    expect(rest.json.items.map((x: { sequence: number }) => x.sequence)).toEqual([1, 0]);
    // The middle round only.
    const mid = rounds[1];
    const ranged = await api.get(`${url}?from=${mid.startMs}&to=${mid.endMs}`);
    expect(ranged.json.items.map((x: { records: { value: number }[] }) => x.records[0].value)).toEqual([21, 21.25]);
    // Before any reading: empty.
    expect((await api.get(`${url}?from=0&to=1000`)).json).toEqual({ items: [], next: null });
  });

  it("refuses bad ranges, cursors and parameters; 404 for unknown devices", async () => {
    const url = `/v1/devices/${net.boards[0].deviceIdHex}/readings`;
    expectError(await api.get(`${url}?from=2000&to=1000`), 400, "BAD_RANGE");
    expectError(await api.get(`${url}?from=0&to=${32 * 86_400_000}`), 400, "RANGE_TOO_WIDE");
    for (const q of ["cursor=12", "cursor=a.b", "cursor=1.2.3", "limit=0", "limit=9999", "from=-5", "to=abc", "order=up", "device=1"]) expectError(await api.get(`${url}?${q}`), 400, "BAD_REQUEST");
    expectError(await api.get(`/v1/devices/${"cd".repeat(16)}/readings`), 404, "DEVICE_NOT_FOUND");
  });
});

describe("provenance", () => {
  it("links a reading to its device signature, gateway co-signature, block, certificate and state (device record, then its reading log), each checkable by the client", async () => {
    const b = net.boards[1];
    const r = await api.get(`/v1/devices/${b.deviceIdHex}/readings/3`);
    expect(r.status).toBe(200);
    const p = r.json;
    expect(p.verified).toBe(true);
    expect([p.device.valid, p.gateway.valid, p.block.txIncluded, p.certificate.valid, p.state.valid]).toEqual([true, true, true, true, true]);
    expect(p.reading).toMatchObject({ deviceId: b.deviceIdHex, sequence: 3, records: [{ name: "temp", value: 21.25 }] });

    // Device: the COSE Sig_structure, signed with the key enrolled for the device (noble, not OpenSSL).
    const cose = fromHex(p.reading.cose);
    const decoded = decodeReading(cose);
    expect(p.device.publicKey).toBe(toHex(b.publicKey));
    expect(p.device.signedBytes).toBe(toHex(sigStructure(decoded.protectedBytes, decoded.payloadBytes)));
    expect(noble.verify(fromHex(p.device.signature), fromHex(p.device.signedBytes), b.publicKey)).toBe(true);
    expect(toHex(sha256(cose))).toBe(p.reading.digest);

    // Gateway: this reading's leaf under the signed root, and the signature over the root.
    const leaf = attestedLeaf({ digest: fromHex(p.reading.digest), receivedAtMs: p.reading.receivedAtMs });
    expect(toHex(leaf)).toBe(p.gateway.leaf);
    const a = p.gateway.attestation;
    expect(verifyInclusion(leaf, p.gateway.leafIndex, a.count, p.gateway.merklePath.map(fromHex), fromHex(a.root))).toBe(true);
    const signedRoot = encode(["moteledger/batch", 1, fromHex(p.gateway.id), a.count, fromHex(a.root)]);
    expect(noble.verify(fromHex(a.signature), signedRoot, fromHex(p.gateway.publicKey))).toBe(true);

    // Block: the header hashes to the block hash; the transaction's leaf is under its txRoot.
    const h = p.block.header;
    const header = { ...h, previousHash: fromHex(h.previousHash), proposer: fromHex(h.proposer), validatorSetHash: fromHex(h.validatorSetHash), nextValidatorSetHash: fromHex(h.nextValidatorSetHash), txRoot: fromHex(h.txRoot), stateRoot: fromHex(h.stateRoot), lastCommitHash: fromHex(h.lastCommitHash), resultsRoot: fromHex(h.resultsRoot) };
    expect(toHex(sha256(encodeHeader(header)))).toBe(h.hash);
    expect(verifyInclusion(fromHex(p.block.txLeaf), p.block.txIndex, p.block.txCount, p.block.txMerklePath.map(fromHex), header.txRoot)).toBe(true);
    expect(h.height).toBe(p.reading.height);

    // Certificate: a quorum of the validators (keys from /v1/validators) signed this block hash.
    const validators = (await api.get("/v1/validators")).json.validators as { id: string; publicKey: string }[];
    const sigs = p.certificate.decoded.signatures as { validatorId: string; signature: string }[];
    const message = commitMessage("mote-api-test", h.height, p.certificate.decoded.round, fromHex(h.hash));
    const good = sigs.filter((s) => {
      const v = validators.find((x) => x.id === s.validatorId);
      return v && noble.verify(fromHex(s.signature), message, fromHex(v.publicKey));
    });
    expect(good.length).toBeGreaterThanOrEqual(p.certificate.quorum);

    // State, step 1: the device's record is under the head's state root, which /v1/head reports.
    const head = (await api.get("/v1/head")).json;
    const st = p.state;
    expect(st.stateRoot).toBe(head.stateRoot);
    expect(st.atHeight).toBe(head.height);
    expect([st.device.valid, st.log.valid, st.log.matchesReading]).toEqual([true, true, true]);
    const stateRoot = { stateRoot: fromHex(st.stateRoot) };
    expect(st.device.key).toBe(`device/${b.deviceIdHex}`);
    const smt = { siblings: st.device.siblings.map(fromHex), terminal: st.device.terminal && { keyHash: fromHex(st.device.terminal.keyHash), valueHash: fromHex(st.device.terminal.valueHash) } };
    const recordBytes = fromHex(st.device.value);
    expect(verifyStateProof(stateRoot, st.device.key, recordBytes, smt)).toBe(true);
    // The record (deviceCodec's array, decoded by hand): its key, reading count (the log size) and
    // log frontier (the roots of the log's perfect subtrees, largest first).
    const fields = decode(recordBytes) as CborValue[];
    expect(fields).toHaveLength(12); // records.ts deviceCodec
    expect(toHex(fields[1] as Uint8Array)).toBe(toHex(b.publicKey));
    const size = fields[7] as number;
    const frontier = fields[9] as Uint8Array[];
    expect(size).toBe(6); // board 1 sent six readings
    expect(st.log.size).toBe(size);
    expect(frontier.map(toHex)).toEqual(st.log.frontier);
    expect(frontier).toHaveLength([...size.toString(2)].filter((c) => c === "1").length);
    const node = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1, ...l, ...r));
    const logRoot = frontier.reduceRight((acc: Uint8Array | undefined, peak) => (acc ? node(peak, acc) : peak), undefined)!;
    expect(toHex(logRoot)).toBe(st.log.root);

    // State, step 2: the reading's leaf, rebuilt from the record and this reading, is in that log.
    const rec = st.log.record;
    expect(rec).toEqual({ sequence: 3, digest: p.reading.digest, height: p.reading.height, gatewayId: p.reading.gatewayId, receivedAtMs: p.reading.receivedAtMs });
    const leafData = encode([rec.sequence, fromHex(rec.digest), rec.height, fromHex(rec.gatewayId), rec.receivedAtMs]);
    expect(toHex(leafData)).toBe(st.log.leafData);
    const logLeaf = leafHash(leafData);
    expect(toHex(logLeaf)).toBe(st.log.leaf);
    expect(st.log.index).toBe(3); // sequences 0..5 in order, none missing
    const auditPath = st.log.auditPath.map(fromHex);
    expect(verifyInclusion(logLeaf, st.log.index, size, auditPath, logRoot)).toBe(true);

    // Tampering fails: another value for the record, another digest in the leaf, another position.
    expect(verifyStateProof(stateRoot, st.device.key, sha256(cose), smt)).toBe(false);
    const forged = recordBytes.slice();
    forged[forged.length - 1] ^= 1; // a bit of the last frontier peak
    expect(verifyStateProof(stateRoot, st.device.key, forged, smt)).toBe(false);
    const otherDigest = sha256(Uint8Array.of(...cose, 0));
    expect(verifyInclusion(leafHash(encode([rec.sequence, otherDigest, rec.height, fromHex(rec.gatewayId), rec.receivedAtMs])), st.log.index, size, auditPath, logRoot)).toBe(false);
    expect(verifyInclusion(leafHash(encode([rec.sequence, fromHex(rec.digest), rec.height, fromHex(rec.gatewayId), rec.receivedAtMs + 1])), st.log.index, size, auditPath, logRoot)).toBe(false);
    expect(verifyInclusion(logLeaf, st.log.index + 1, size, auditPath, logRoot)).toBe(false);

    // The chain's own two-step verifier agrees, and refuses the tampered reading too.
    const proof = {
      height: st.atHeight,
      device: { value: recordBytes, proof: smt },
      entries: [{ reading: { ...rec, digest: fromHex(rec.digest), gatewayId: fromHex(rec.gatewayId) }, index: st.log.index, path: auditPath }],
    };
    expect(verifyReadingPresent(stateRoot, b.deviceId, 3, proof)).toBeDefined();
    expect(verifyReadingPresent(stateRoot, b.deviceId, 2, proof)).toBeUndefined();
    expect(verifyReadingPresent(stateRoot, b.deviceId, 3, { ...proof, entries: [{ ...proof.entries[0], reading: { ...proof.entries[0].reading, digest: otherDigest } }] })).toBeUndefined();
  });

  it("puts every reading of a device in its log, in sequence order, under the root of the record's frontier", async () => {
    const b = net.boards[0]; // seven readings: a log whose size is not a power of two
    const roots = new Set<string>();
    for (let seq = 0; seq <= 6; seq++) {
      const st = (await api.get(`/v1/devices/${b.deviceIdHex}/readings/${seq}`)).json.state;
      expect(st.valid).toBe(true);
      expect([st.log.index, st.log.size, st.log.frontier.length]).toEqual([seq, 7, 3]);
      const rec = st.log.record;
      const leaf = leafHash(encode([rec.sequence, fromHex(rec.digest), rec.height, fromHex(rec.gatewayId), rec.receivedAtMs]));
      expect(verifyInclusion(leaf, seq, 7, st.log.auditPath.map(fromHex), fromHex(st.log.root))).toBe(true);
      roots.add(st.log.root);
    }
    expect(roots.size).toBe(1);
  });

  it("answers 404 for readings that are not finalized and 400 for malformed sequences", async () => {
    const url = `/v1/devices/${net.boards[0].deviceIdHex}/readings`;
    expectError(await api.get(`${url}/999`), 404, "READING_NOT_FOUND");
    for (const s of ["-1", "abc", "1.5", String(2 ** 40)]) expectError(await api.get(`${url}/${s}`), 400, "BAD_REQUEST");
    expectError(await api.get(`/v1/devices/${"ef".repeat(16)}/readings/0`), 404, "DEVICE_NOT_FOUND");
  });
});

describe("a cloned device key", () => {
  it("two readings under one sequence quarantine the device; its owner sees why", async () => {
    const device = newIdentity();
    const chainId = net.chain.chainId;
    const enroll = { kind: "enrollDevice" as const, devicePublicKey: device.publicKey, metadata: new Map([["site", "lab"]]), ttlDays: 0 };
    net.mempool.add(signed(chainId, net.owner, net.mempool.nextNonce(net.owner.id), enroll), Date.now());
    net.producer.produce();
    const now = Date.now();
    const readings = [deviceReading(device, 9, 20), deviceReading(device, 9, 99)].map((bytes) => ({ bytes, receivedAtMs: now }));
    net.mempool.add(signed(chainId, net.identity, net.mempool.nextNonce(net.identity.id), batchBody(net.identity, readings), 3n), now);
    net.producer.produce();
    const r = await api.get(`/v1/devices/${toHex(device.id)}`);
    expect(r.json).toMatchObject({ status: "quarantined", readings: 1, evidence: 1 });
    expect(r.json.statusSinceMs).toBeGreaterThan(0);
    expect(r.json.evidenceRecords).toEqual([expect.objectContaining({ kind: "equivocation", sequence: 9, reporter: toHex(net.identity.id), summary: expect.stringMatching(/sequence 9.*quarantined/) })]);
  });
});
