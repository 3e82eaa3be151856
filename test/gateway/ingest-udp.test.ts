// Readings and enrollments over real loopback UDP into a real gateway with its SQLite files:
// every refusal has its code and diagnostic, is counted, and stores nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { verifyBatch, readingProof, verifyReadingProof } from "../../shared/attestation.ts";
import { publicKeyObject, toHex } from "../../shared/ed25519.ts";
import { decode, encode, Tagged } from "../../shared/cbor.ts";
import { decodeReading, readingDigest } from "../../shared/reading.ts";
import { makeKey, startTestGateway, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { option, optionUint } from "../../gateway/coap/message.ts";

let t: TestGateway;
let client: TestCoapClient;

beforeAll(async () => {
  // A small bucket so the rate-limit test needs few requests.
  t = await startTestGateway({ ingest: { rateReadingsPerS: 1, rateBurst: 5 } });
  client = await TestCoapClient.open(t.port);
});
afterAll(async () => {
  await client.close();
  await t.stop();
});

const post = (payload: Uint8Array, format: number = contentFormat.coseSign1) => client.request({ method: "POST", path: "r", payload, contentFormat: format });
const storedOf = (d: TestDevice) => t.gw.store.allReadings().filter((r) => Buffer.from(r.deviceId).equals(Buffer.from(d.deviceId)));
const text = (b: Buffer) => b.toString("utf8");

describe("POST /r accepts", () => {
  it("a signed reading from an enrolled device with 2.01, after storing and co-signing it", async () => {
    const d = new TestDevice();
    t.enroll(d);
    const bytes = d.reading(22.25);
    const reply = await post(bytes);
    expect(reply.code).toBe("2.01");
    expect(reply.payload.length).toBe(0);
    const [stored] = storedOf(d);
    expect(Buffer.from(stored.cose).equals(Buffer.from(bytes))).toBe(true);
    expect(stored.sequence).toBe(0);
    const att = t.gw.store.attestation(stored.batchId)!;
    const leaves = t.gw.store.batchReadings(stored.batchId);
    const gatewayKey = publicKeyObject(t.gw.identity.publicKey);
    expect(verifyBatch(att, gatewayKey, leaves)).toBe(true);
    expect(Buffer.from(att.gatewayId).equals(Buffer.from(t.gw.identity.gatewayId))).toBe(true);
    const proof = readingProof(leaves, stored.leafIndex);
    expect(verifyReadingProof(att, gatewayKey, { digest: readingDigest(bytes), receivedAtMs: stored.receivedAtMs }, stored.leafIndex, proof)).toBe(true);
  });

  it("a duplicate of an accepted reading with the same 2.01 and no second record", async () => {
    const d = new TestDevice();
    t.enroll(d);
    const bytes = d.reading();
    const replies = await Promise.all([post(bytes), post(bytes), post(bytes)]);
    expect(replies.map((r) => r.code)).toEqual(["2.01", "2.01", "2.01"]);
    expect((await post(bytes)).code).toBe("2.01");
    expect(storedOf(d)).toHaveLength(1);
    expect(t.gw.store.misbehaviour(d.deviceId)).toEqual({});
  });

  it("sequence numbers out of order and with gaps, inside the replay window", async () => {
    const d = new TestDevice();
    t.enroll(d);
    for (const seq of [10, 7, 200, 150]) expect((await post(d.reading(1, seq))).code).toBe("2.01");
    expect(storedOf(d).map((r) => r.sequence)).toEqual([10, 7, 200, 150]);
  });
});

describe("POST /r refuses, counts, stores nothing", () => {
  it("a forged signature with 4.01", async () => {
    const d = new TestDevice();
    t.enroll(d);
    const bytes = d.reading();
    bytes[bytes.length - 1] ^= 1; // last byte of the signature
    const reply = await post(bytes);
    expect(reply.code).toBe("4.01");
    expect(text(reply.payload)).toMatch(/^BAD_SIGNATURE: /);
    // Signed by another key under this device's id: same answer.
    const impostor = new TestDevice();
    const forged = decodeReading(impostor.reading(1, 5));
    const rebuilt = decode(impostor.reading(1, 5)) as Tagged;
    const parts = rebuilt.value as unknown[];
    parts[1] = new Map([[4, d.deviceId]]);
    expect((await post(encode(new Tagged(18, parts as never)))).code).toBe("4.01");
    expect(forged.sequence).toBe(5);
    expect(storedOf(d)).toHaveLength(0);
    await t.gw.commits.flushCounters();
    expect(t.gw.store.misbehaviour(d.deviceId)).toEqual({ BAD_SIGNATURE: 2 });
    expect(t.gw.pipeline.counters.rejected.BAD_SIGNATURE).toBeGreaterThanOrEqual(2);
  });

  it("an unknown device with 4.03", async () => {
    const d = new TestDevice();
    const reply = await post(d.reading());
    expect(reply.code).toBe("4.03");
    expect(text(reply.payload)).toContain(`UNKNOWN_DEVICE: device ${toHex(d.deviceId)} is not enrolled`);
    expect(storedOf(d)).toHaveLength(0);
  });

  it("a revoked or quarantined device with 4.03", async () => {
    const d = new TestDevice();
    t.enroll(d);
    t.gw.registry.setStatus(d.deviceId, "quarantined");
    expect(text((await post(d.reading())).payload)).toMatch(/^DEVICE_QUARANTINED/);
    t.gw.registry.setStatus(d.deviceId, "revoked");
    const reply = await post(d.reading());
    expect(reply.code).toBe("4.03");
    expect(text(reply.payload)).toMatch(/^DEVICE_REVOKED/);
    expect(storedOf(d)).toHaveLength(0);
  });

  it("a sequence number reused with other content, or older than the window, with 4.09", async () => {
    const d = new TestDevice();
    t.enroll(d);
    expect((await post(d.reading(1, 100))).code).toBe("2.01");
    const replay = await post(d.reading(2, 100));
    expect(replay.code).toBe("4.09");
    expect(text(replay.payload)).toMatch(/^REPLAY: /);
    const stale = await post(d.reading(1, 100 - 64));
    expect(stale.code).toBe("4.09");
    expect(text(stale.payload)).toMatch(/^STALE: /);
    expect(storedOf(d).map((r) => r.sequence)).toEqual([100]);
    await t.gw.commits.flushCounters();
    expect(t.gw.store.misbehaviour(d.deviceId)).toEqual({ REPLAY: 1, STALE: 1 });
  });

  it("an oversize payload with 4.13 and Size1", async () => {
    const reply = await post(new Uint8Array(1025));
    expect(reply.code).toBe("4.13");
    expect(optionUint(reply.options.find((o) => o.number === option.size1)!.value)).toBe(1024);
  });

  it("a wrong Content-Format with 4.15; a missing one is fine (the COSE tag says what it is)", async () => {
    const d = new TestDevice();
    t.enroll(d);
    expect((await post(d.reading(), contentFormat.cbor)).code).toBe("4.15");
    expect(storedOf(d)).toHaveLength(0);
    expect((await client.request({ method: "POST", path: "r", payload: d.reading() })).code).toBe("2.01");
    expect(storedOf(d)).toHaveLength(1);
  });

  it("malformed bytes with 4.00 and a diagnostic", async () => {
    for (const junk of [Buffer.from("hello"), encode([1, 2, 3]), new Uint8Array([0xd2, 0x84])]) {
      const reply = await post(junk);
      expect(reply.code).toBe("4.00");
      expect(text(reply.payload)).toMatch(/^MALFORMED: /);
    }
  });

  it("a flooding device with 4.29 and Max-Age, counted", async () => {
    const d = new TestDevice();
    t.enroll(d);
    const codes: string[] = [];
    let maxAge: number | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await post(d.reading());
      codes.push(r.code);
      if (r.code === "4.29") maxAge = optionUint(r.options.find((o) => o.number === option.maxAge)!.value);
    }
    expect(codes.slice(0, 5)).toEqual(["2.01", "2.01", "2.01", "2.01", "2.01"]);
    expect(codes).toContain("4.29");
    expect(maxAge).toBeGreaterThanOrEqual(1);
    expect(storedOf(d).length).toBe(codes.filter((c) => c === "2.01").length);
    await t.gw.commits.flushCounters();
    expect(t.gw.store.misbehaviour(d.deviceId).RATE_LIMITED).toBe(codes.filter((c) => c === "4.29").length);
  });
});

describe("POST /e enrollment", () => {
  const enroll = (payload: Uint8Array) => client.request({ method: "POST", path: "e", payload, contentFormat: contentFormat.cbor });

  it("enrolls a device signed by a trusted owner (2.01), idempotently (2.04)", async () => {
    const d = new TestDevice();
    expect((await enroll(d.enrollment(t.owner))).code).toBe("2.01");
    expect((await enroll(d.enrollment(t.owner))).code).toBe("2.04");
    expect(t.gw.registry.lookup(d.deviceId)?.status).toBe("active");
    expect(t.gw.registry.lookup(d.deviceId)?.metadata).toEqual({ site: "lab" });
    expect((await post(d.reading())).code).toBe("2.01");
  });

  it("queues a device of an untrusted owner for approval (4.03), then accepts it once approved", async () => {
    const d = new TestDevice();
    const reply = await enroll(d.enrollment(makeKey()));
    expect(reply.code).toBe("4.03");
    expect(text(reply.payload)).toMatch(/^ENROLLMENT_PENDING: .*queued for operator approval/);
    expect(t.gw.registry.lookup(d.deviceId)?.status).toBe("pending");
    expect(text((await post(d.reading(1, 0))).payload)).toMatch(/^DEVICE_PENDING/);
    t.gw.registry.setStatus(d.deviceId, "active");
    expect((await post(d.reading(1, 1))).code).toBe("2.01");
  });

  it("refuses a bad owner signature (4.01), another owner's claim (4.09), garbage (4.00)", async () => {
    const d = new TestDevice();
    const bytes = d.enrollment(t.owner);
    bytes[bytes.length - 2] ^= 0x40;
    expect((await enroll(bytes)).code).toBe("4.01");
    expect(t.gw.registry.lookup(d.deviceId)).toBeUndefined();
    expect((await enroll(d.enrollment(t.owner))).code).toBe("2.01");
    expect((await enroll(d.enrollment(makeKey()))).code).toBe("4.09");
    expect((await enroll(Buffer.from("garbage"))).code).toBe("4.00");
  });
});

describe("GET /t and /h, and what is not served", () => {
  it("GET /t returns the gateway's Unix time in ms as a CBOR uint", async () => {
    const before = Date.now();
    const reply = await client.request({ method: "GET", path: "t" });
    expect(reply.code).toBe("2.05");
    expect(optionUint(reply.options.find((o) => o.number === option.contentFormat)!.value)).toBe(contentFormat.cbor);
    const ms = decode(reply.payload) as number;
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });

  it("GET /h returns status and counters as a CBOR map", async () => {
    const reply = await client.request({ method: "GET", path: "h" });
    expect(reply.code).toBe("2.05");
    const h = decode(reply.payload) as Map<string, unknown>;
    expect(h.get("status")).toBe("ok");
    expect(h.get("accepted")).toBeGreaterThan(0);
  });

  it("answers unknown paths 4.04, wrong methods 4.05, unsupported critical options 4.02, pings RST", async () => {
    expect((await client.request({ method: "GET", path: "nope" })).code).toBe("4.04");
    expect((await client.request({ method: "GET", path: "r" })).code).toBe("4.05");
    expect((await client.request({ method: 3, path: "r" })).code).toBe("4.05"); // PUT
    expect((await client.request({ method: "GET", path: "t", extraOptions: [{ number: 9, value: Buffer.alloc(0) }] })).code).toBe("4.02");
    const [rst] = await client.raw(Buffer.from([0x40, 0x00, 0x12, 0x34]));
    expect([...rst]).toEqual([0x70, 0x00, 0x12, 0x34]);
  });
});

describe("after a restart on the same data directory", () => {
  it("keeps replay protection, answers duplicates 2.01, and keeps the gateway's identity", async () => {
    const { tempDir } = await import("../support/gateway-fixtures.ts");
    const dir = tempDir();
    const d = new TestDevice();
    let g = await startTestGateway({}, { dataDir: dir.path });
    const owner = g.owner;
    g.enroll(d);
    const gatewayId = toHex(g.gw.identity.gatewayId);
    let c = await TestCoapClient.open(g.port);
    const first = d.reading(1, 40);
    expect((await c.request({ method: "POST", path: "r", payload: first, contentFormat: contentFormat.coseSign1 })).code).toBe("2.01");
    await c.close();
    await g.stop();
    g = await startTestGateway({}, { dataDir: dir.path, owner });
    c = await TestCoapClient.open(g.port);
    const send = (payload: Uint8Array) => c.request({ method: "POST", path: "r", payload, contentFormat: contentFormat.coseSign1 });
    expect(toHex(g.gw.identity.gatewayId)).toBe(gatewayId);
    expect((await send(first)).code).toBe("2.01");
    expect((await send(d.reading(2, 40))).code).toBe("4.09");
    expect((await send(d.reading(2, 41))).code).toBe("2.01");
    expect(g.gw.store.allReadings().map((r) => r.sequence)).toEqual([40, 41]);
    await c.close();
    await g.stop();
    dir.remove();
  });
});
