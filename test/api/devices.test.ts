// Devices, readings by time range and a reading's provenance, over real firmware boards whose
// readings went through UDP, ingest, the solo producer and SQLite. The provenance is checked
// twice: by the gateway (its `valid` flags) and here, independently, with @noble/curves and the
// Merkle and state-proof verifiers, from nothing but the response and the validator keys.
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attestedLeaf } from "../../shared/attestation.ts";
import { encode } from "../../shared/cbor.ts";
import { fromHex, sha256, toHex } from "../../shared/ed25519.ts";
import { verifyInclusion } from "../../shared/merkle.ts";
import { decodeReading, sigStructure } from "../../shared/reading.ts";
import { encodeHeader } from "../../gateway/chain/block.ts";
import { commitMessage } from "../../gateway/chain/certificate.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
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
  it("links a reading to its device signature, gateway co-signature, block, certificate and state, each checkable by the client", async () => {
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
    const header = { ...h, previousHash: fromHex(h.previousHash), proposer: fromHex(h.proposer), validatorSetHash: fromHex(h.validatorSetHash), nextValidatorSetHash: fromHex(h.nextValidatorSetHash), txRoot: fromHex(h.txRoot), stateRoot: fromHex(h.stateRoot), lastCommitHash: fromHex(h.lastCommitHash) };
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

    // State: the reading's record is under the head's state root, which /v1/head reports.
    const head = (await api.get("/v1/head")).json;
    expect(p.state.stateRoot).toBe(head.stateRoot);
    const proof = { siblings: p.state.siblings.map(fromHex), terminal: p.state.terminal && { keyHash: fromHex(p.state.terminal.keyHash), valueHash: fromHex(p.state.terminal.valueHash) } };
    expect(verifyStateProof({ stateRoot: fromHex(p.state.stateRoot) }, p.state.key, fromHex(p.state.value), proof)).toBe(true);
    expect(verifyStateProof({ stateRoot: fromHex(p.state.stateRoot) }, p.state.key, sha256(cose), proof)).toBe(false);
  });

  it("answers 404 for readings that are not finalized and 400 for malformed sequences", async () => {
    const url = `/v1/devices/${net.boards[0].deviceIdHex}/readings`;
    expectError(await api.get(`${url}/999`), 404, "READING_NOT_FOUND");
    for (const s of ["-1", "abc", "1.5", String(2 ** 40)]) expectError(await api.get(`${url}/${s}`), 400, "BAD_REQUEST");
    expectError(await api.get(`/v1/devices/${"ef".repeat(16)}/readings/0`), 404, "DEVICE_NOT_FOUND");
  });
});
