// Fuzzing the gateway: ≥ 50,000 random and mutated inputs in all, as COSE/CBOR payloads straight
// into the ingest pipeline and as whole datagrams over real UDP. Nothing may crash, reject unhandled
// or be stored; every answer to a request is a 4.xx with a diagnostic (or a Reset for a message
// format error, RFC 7252 §4.2), and the gateway still accepts a valid reading afterwards.
import { createSocket, type Socket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { contentFormat } from "../../shared/constants.ts";
import { decode, encode, Tagged, type CborValue } from "../../shared/cbor.ts";
import { IngestError } from "../../gateway/ingest/errors.ts";
import { parseMessage, option, TYPE_RST } from "../../gateway/coap/message.ts";
import { buildRequest, codeOf, TestCoapClient } from "../support/gateway-coap-client.ts";
import { startTestGateway, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";

const payloadRuns = 30_000;
const datagramRuns = 24_000;
const seed = 0x5eed;

let t: TestGateway;
const devices = [new TestDevice(), new TestDevice(), new TestDevice()];
// Valid readings never submitted as such: a mutation that changes nothing is skipped, so any
// accepted input would be a real hole.
const originals = devices.flatMap((d) => [d.reading(21.5, 1), d.reading(-3, 2 ** 20), d.reading(1e9, 2 ** 40 - 1, 5)]);

beforeAll(async () => {
  t = await startTestGateway({ ingest: { rateReadingsPerS: 1_000_000, rateBurst: 1_000_000 } });
  t.enroll(...devices);
});
afterAll(() => t.stop());

/** Byte-level mutations: flips, overwrites, truncation, insertion, splices of two readings. */
const byteMutation = fc
  .tuple(fc.constantFrom(...originals), fc.constantFrom(...originals), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 5 }), fc.nat(255)), { minLength: 1, maxLength: 4 }))
  .map(([a, b, edits]) => {
    let out = Buffer.from(a);
    for (const [pos, kind, byte] of edits) {
      const i = pos % Math.max(1, out.length);
      if (kind === 0) out[i] ^= 1 << byte % 8;
      else if (kind === 1) out[i] = byte;
      else if (kind === 2) out = out.subarray(0, i);
      else if (kind === 3) out = Buffer.concat([out.subarray(0, i), Buffer.of(byte), out.subarray(i)]);
      else if (kind === 4) out = Buffer.concat([out.subarray(0, i), Buffer.from(b).subarray(i)]);
      else out = Buffer.concat([out, Buffer.of(byte)]);
    }
    return new Uint8Array(out);
  });

/** Structure-aware mutations: valid CBOR with one part of the COSE_Sign1 changed. */
const structuralMutation = fc.tuple(fc.constantFrom(...originals), fc.integer({ min: 0, max: 6 }), fc.constantFrom(...devices), fc.uint8Array({ maxLength: 70 })).map(([orig, which, other, junk]) => {
  const parts = [...((decode(orig) as Tagged).value as CborValue[])];
  if (which === 0) parts[0] = junk; // protected header
  else if (which === 1) parts[1] = new Map([[4, other.deviceId]]); // kid of another enrolled device
  else if (which === 2) parts[2] = junk; // payload
  else if (which === 3) parts[3] = junk; // signature
  else if (which === 4) parts.push(junk);
  else if (which === 5) return encode(new Tagged(17, parts)); // COSE_Mac0 tag
  else parts[1] = new Map<CborValue, CborValue>([[4, other.deviceId], [5, junk]]);
  return encode(new Tagged(18, parts));
});

const randomBytes = fc.uint8Array({ maxLength: 1100 });
const anyPayload = fc.oneof(byteMutation, structuralMutation, randomBytes);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("fuzz", () => {
  it(`${payloadRuns} COSE/CBOR payloads into the pipeline: every one refused with a 4.xx, nothing stored`, async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(anyPayload, async (bytes) => {
        if (originals.some((o) => same(o, bytes))) return;
        const err = await t.gw.pipeline.ingest(bytes, "fuzz").then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(IngestError);
        expect((err as IngestError).coapCode).toMatch(/^4\.(00|01|03|09|13)$/);
        expect((err as IngestError).message.length).toBeGreaterThan(0);
        refused++;
      }),
      { numRuns: payloadRuns, seed },
    );
    expect(refused).toBeGreaterThan(payloadRuns * 0.95);
    expect(t.gw.store.counts().readings).toBe(0);
  });

  it(`${datagramRuns} random and mutated datagrams over UDP: only 4.xx with diagnostics or Resets, nothing stored`, async () => {
    const requestTemplates = originals.map((payload) => buildRequest({ method: "POST", path: "r", payload, contentFormat: contentFormat.coseSign1 }));
    const datagram = fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1300 }) },
      // Whole-message mutations: header, token, options, payload alike.
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...requestTemplates), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 })).map(([m, edits]) => {
        const out = Buffer.from(m);
        for (const [pos, byte] of edits) out[pos % out.length] = byte;
        return new Uint8Array(out);
      }) },
      // Well-formed requests carrying a fuzzed payload.
      { weight: 3, arbitrary: anyPayload.map((p) => new Uint8Array(buildRequest({ method: "POST", path: "r", payload: p, contentFormat: contentFormat.coseSign1 }))) },
    );
    // A mutation of the header alone leaves a valid reading inside: skip those, as above.
    const inputs = fc.sample(datagram, { numRuns: datagramRuns, seed }).filter((d) => !carriesOriginal(d));
    const replies = await blast(t.port, inputs);
    expect(replies.length).toBeGreaterThan(datagramRuns / 2);
    const sent = new Map<string, Uint8Array>();
    for (const d of inputs) if (d.length >= 4) sent.set(Buffer.from(d.subarray(2, 4)).toString("hex"), d);
    const tally = new Map<string, number>();
    for (const r of replies) {
      const m = parseMessage(r);
      const code = m.type === TYPE_RST ? "RST" : codeOf(m.code);
      tally.set(code, (tally.get(code) ?? 0) + 1);
      if (m.type === TYPE_RST) {
        expect(m.code).toBe(0);
        continue;
      }
      if (code === "2.05") {
        // A mutation can make a valid GET /t or /h: then 2.05 is the right answer.
        const req = parseMessage(sent.get(Buffer.from(r.subarray(2, 4)).toString("hex"))!);
        const path = req.options.filter((o) => o.number === option.uriPath).map((o) => o.value.toString()).join("/");
        expect(req.code === 1 && (path === "t" || path === "h")).toBe(true);
        continue;
      }
      // 5.05 is RFC 7252 §5.7.2's answer when a mutation produced a Proxy-Uri option.
      expect(code === "5.05" || code.startsWith("4."), `${code} ${m.payload.toString()} for ${Buffer.from(sent.get(Buffer.from(r.subarray(2, 4)).toString("hex")) ?? []).toString("hex")}`).toBe(true);
      expect(m.payload.length).toBeGreaterThan(0);
    }
    // The mutations reach every stage of the pipeline, not just the parser.
    for (const code of ["RST", "4.00", "4.01", "4.02", "4.03", "4.04", "4.15"]) expect(tally.get(code), `${code} in ${JSON.stringify([...tally])}`).toBeGreaterThan(0);
    expect(t.gw.store.counts().readings).toBe(0);
    // Still serving.
    const client = await TestCoapClient.open(t.port);
    const reply = await client.request({ method: "POST", path: "r", payload: devices[0].reading(1, 7), contentFormat: contentFormat.coseSign1 });
    await client.close();
    expect(reply.code).toBe("2.01");
    expect(t.gw.store.counts().readings).toBe(1);
  });
});

function carriesOriginal(datagram: Uint8Array): boolean {
  try {
    const payload = parseMessage(datagram).payload;
    return originals.some((o) => same(o, payload));
  } catch {
    return false;
  }
}

/** Sends datagrams in paced bursts from one socket; returns every reply received. */
async function blast(port: number, datagrams: Uint8Array[]): Promise<Buffer[]> {
  const socket: Socket = createSocket({ type: "udp4", recvBufferSize: 8 << 20 });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const replies: Buffer[] = [];
  let lastReplyMs = Date.now();
  socket.on("message", (m) => {
    replies.push(m);
    lastReplyMs = Date.now();
  });
  const burst = 200;
  for (let i = 0; i < datagrams.length; i += burst) {
    for (const d of datagrams.slice(i, i + burst)) socket.send(d, port, "127.0.0.1");
    // Wait until the gateway has gone quiet: the replies to this burst are in.
    await new Promise((r) => setTimeout(r, 5));
    while (Date.now() - lastReplyMs < 15) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 100));
  await new Promise<void>((r) => socket.close(() => r()));
  return replies;
}
