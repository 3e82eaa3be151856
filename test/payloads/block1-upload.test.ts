// Block1 uploads (RFC 7959) of payloads to a real gateway's CoAP endpoint over loopback UDP:
// PUT /p/<sha256> reassembled by gateway/payloads/block1-upload.ts into <dataDir>/payloads, with the
// edge cases: out of order (4.08), too large (4.13 + Size1, before and during), a wrong digest (4.00,
// nothing kept), retransmitted blocks (acknowledged again, written once), per-source limits (5.03 +
// Max-Age), an abandoned upload swept with its temporary file; and libcoap's coap-client as the client.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { anchorRecords } from "../../shared/payload-anchor.ts";
import { encodeReading } from "../../shared/reading.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import { decodeBlockOption, encodeBlockOption } from "../../gateway/coap/block-option.ts";
import { option, optionUint, uintValue, type CoapOption } from "../../gateway/coap/message.ts";
import { uploadPayload } from "../../gateway/payloads/block1-client.ts";
import { Block1Uploads } from "../../gateway/payloads/block1-upload.ts";
import { PayloadStore } from "../../gateway/payloads/payload-store.ts";
import { uploadHandler } from "../../gateway/payloads/upload-resource.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { startTestGateway, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";

const PUT = 3;
const bytesMax = 64 * 1024;
let gw: TestGateway;
let store: PayloadStore;
let uploads: Block1Uploads;
let now = 1_000_000;
let client: TestCoapClient;

const block1 = (num: number, more: boolean, szx = 6): CoapOption => ({ number: option.block1, value: encodeBlockOption({ num, more, szx }) });
const put = (digestHex: string, payload: Uint8Array, extraOptions: CoapOption[], c = client) => c.request({ method: PUT, path: `p/${digestHex}`, payload, extraOptions });
const optionOf = (r: { options: CoapOption[] }, n: number) => r.options.find((o) => o.number === n);
const tmpFiles = () => readdirSync(store.tmpDir);

beforeAll(async () => {
  gw = await startTestGateway();
  store = new PayloadStore(gw.dataDir);
  uploads = new Block1Uploads(store, { payloadBytesMax: bytesMax, uploadsPerSourceMax: 2, uploadsMax: 8, idleMs: 30_000, retryAfterS: 7 }, () => now);
  gw.gw.endpoint.uploadHandler = uploadHandler(uploads);
  client = await TestCoapClient.open(gw.port);
});

afterAll(async () => {
  await client.close();
  uploads.close();
  await gw.stop();
});

beforeEach(() => {
  now += 60_000;
  uploads.sweep();
});

describe("PUT /p/<sha256> with Block1", () => {
  it("stores a multi-block upload under its digest: 2.31 per block, 2.01 at the end, 2.04 when it was already here", async () => {
    const bytes = randomBytes(5000);
    const first = await uploadPayload(bytes, { host: "127.0.0.1", port: gw.port, blockBytes: 512, ackTimeoutMs: 200 });
    expect(first).toMatchObject({ code: "2.01", blocks: 10, retransmissions: 0, sha256: toHex(sha256(bytes)) });
    expect(Buffer.from(store.get(first.sha256)!)).toEqual(bytes);
    expect((await uploadPayload(bytes, { host: "127.0.0.1", port: gw.port })).code).toBe("2.04");
    expect(tmpFiles()).toEqual([]);
  });

  it("a retransmitted block is acknowledged again and written once; a retransmitted last block gets the same 2.01", async () => {
    const bytes = randomBytes(2048);
    const hex = toHex(sha256(bytes));
    expect((await put(hex, bytes.subarray(0, 1024), [block1(0, true)])).code).toBe("2.31");
    const again = await put(hex, bytes.subarray(0, 1024), [block1(0, true)]);
    expect(again.code).toBe("2.31");
    expect(decodeBlockOption(optionOf(again, option.block1)!.value)).toEqual({ num: 0, more: true, szx: 6 });
    const last = await put(hex, bytes.subarray(1024), [block1(1, false)]);
    expect(last.code).toBe("2.01");
    expect(decodeBlockOption(optionOf(last, option.block1)!.value)).toEqual({ num: 1, more: false, szx: 6 });
    expect((await put(hex, bytes.subarray(1024), [block1(1, false)])).code).toBe("2.01");
    expect(Buffer.from(store.get(hex)!)).toEqual(bytes);
  });

  it("takes a smaller block size midway (offsets by NUM × size, §2.5)", async () => {
    const bytes = randomBytes(1024 + 512 + 100);
    const hex = toHex(sha256(bytes));
    expect((await put(hex, bytes.subarray(0, 1024), [block1(0, true, 6)])).code).toBe("2.31");
    expect((await put(hex, bytes.subarray(1024, 1536), [block1(2, true, 5)])).code).toBe("2.31");
    expect((await put(hex, bytes.subarray(1536), [block1(3, false, 5)])).code).toBe("2.01");
    expect(Buffer.from(store.get(hex)!)).toEqual(bytes);
  });

  it("out of order: a block past the received end, or a later block of no upload, is 4.08", async () => {
    const bytes = randomBytes(4096);
    const hex = toHex(sha256(bytes));
    const orphan = await put(hex, bytes.subarray(1024, 2048), [block1(1, true)]);
    expect(orphan.code).toBe("4.08");
    expect(orphan.payload.toString()).toMatch(/PAYLOAD_INCOMPLETE/);
    expect((await put(hex, bytes.subarray(0, 1024), [block1(0, true)])).code).toBe("2.31");
    expect((await put(hex, bytes.subarray(2048, 3072), [block1(2, true)])).code).toBe("4.08");
    // The upload is still there: the missing block, then the rest, complete it.
    expect((await put(hex, bytes.subarray(1024, 2048), [block1(1, true)])).code).toBe("2.31");
    expect((await put(hex, bytes.subarray(2048, 3072), [block1(2, true)])).code).toBe("2.31");
    expect((await put(hex, bytes.subarray(3072), [block1(3, false)])).code).toBe("2.01");
  });

  it("too large: a Size1 over the limit is 4.13 with Size1 = the limit before any byte is kept; so is a block past it", async () => {
    const hex = toHex(randomBytes(32));
    const early = await put(hex, randomBytes(1024), [block1(0, true), { number: option.size1, value: uintValue(bytesMax + 1) }]);
    expect(early.code).toBe("4.13");
    expect(optionUint(optionOf(early, option.size1)!.value)).toBe(bytesMax);
    expect(uploads.active).toBe(0);
    for (let num = 0; num < bytesMax / 1024; num++) expect((await put(hex, randomBytes(1024), [block1(num, true)])).code).toBe("2.31");
    const late = await put(hex, randomBytes(1024), [block1(bytesMax / 1024, true)]);
    expect(late.code).toBe("4.13");
    expect(optionUint(optionOf(late, option.size1)!.value)).toBe(bytesMax);
    expect(uploads.active).toBe(0);
    expect(tmpFiles()).toEqual([]);
    // And our client stops at the first block.
    await expect(uploadPayload(randomBytes(bytesMax + 1), { host: "127.0.0.1", port: gw.port })).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  });

  it("a wrong digest: the last block gets 4.00 PAYLOAD_DIGEST and nothing is kept", async () => {
    const bytes = randomBytes(3000);
    const wrong = toHex(sha256(randomBytes(10)));
    expect((await put(wrong, bytes.subarray(0, 1024), [block1(0, true)])).code).toBe("2.31");
    expect((await put(wrong, bytes.subarray(1024, 2048), [block1(1, true)])).code).toBe("2.31");
    const last = await put(wrong, bytes.subarray(2048), [block1(2, false)]);
    expect(last.code).toBe("4.00");
    expect(last.payload.toString()).toMatch(/PAYLOAD_DIGEST/);
    expect(store.has(wrong)).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  it("a block with M set must be the full block size (4.00); a bad path is 4.04", async () => {
    const hex = toHex(randomBytes(32));
    expect((await put(hex, randomBytes(1000), [block1(0, true)])).code).toBe("4.00");
    expect((await client.request({ method: PUT, path: "p/xyz", payload: randomBytes(10) })).code).toBe("4.04");
  });

  it("per-source limit: a third concurrent upload from one source is 5.03 with Max-Age; others still get theirs", async () => {
    const hexes = [0, 1, 2].map(() => toHex(randomBytes(32)));
    expect((await put(hexes[0], randomBytes(1024), [block1(0, true)])).code).toBe("2.31");
    expect((await put(hexes[1], randomBytes(1024), [block1(0, true)])).code).toBe("2.31");
    const third = await put(hexes[2], randomBytes(1024), [block1(0, true)]);
    expect(third.code).toBe("5.03");
    expect(optionUint(optionOf(third, option.maxAge)!.value)).toBe(7);
    const other = await TestCoapClient.open(gw.port);
    try {
      expect((await put(hexes[2], randomBytes(1024), [block1(0, true)], other)).code).toBe("2.31");
    } finally {
      await other.close();
    }
  });

  it("an abandoned upload is dropped with its temporary file after idleMs", async () => {
    const hex = toHex(randomBytes(32));
    expect((await put(hex, randomBytes(1024), [block1(0, true)])).code).toBe("2.31");
    expect((await put(hex, randomBytes(1024), [block1(1, true)])).code).toBe("2.31");
    expect(tmpFiles().length).toBeGreaterThan(0);
    now += 29_999;
    expect(uploads.sweep()).toBe(0);
    now += 1;
    expect(uploads.sweep()).toBeGreaterThan(0);
    expect(uploads.active).toBe(0);
    expect(tmpFiles()).toEqual([]);
    expect((await put(hex, randomBytes(1024), [block1(2, true)])).code).toBe("4.08");
  });

  it("mote payload put uploads a file and prints the records that anchor it", async () => {
    const bytes = randomBytes(3000);
    const file = join(gw.dataDir, "cli-upload.bin");
    writeFileSync(file, bytes);
    const cli = fileURLToPath(new URL("../../gateway/cli/main.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", cli, "payload", "put", file, "--gateway", `127.0.0.1:${gw.port}`, "--content-format", "23", "--name", "cam", "--json"], { timeout: 60_000 });
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ code: "2.01", bytes: 3000, blocks: 3, sha256: toHex(sha256(bytes)) });
    expect(out.anchor).toEqual([
      { name: "cam", dataValue: toHex(sha256(bytes)), contentFormat: "23" },
      { name: "cam", unit: "B", value: 3000 },
    ]);
    expect(Buffer.from(store.get(out.sha256)!)).toEqual(bytes);
  });

  it("ingest takes a reading anchoring a payload that is not here yet (2.01), and refuses a malformed anchor with 4.00 PAYLOAD_ANCHOR", async () => {
    const d = new TestDevice();
    gw.enroll(d);
    const anchor = anchorRecords({ name: "img", digest: randomBytes(32), bytes: 5000, contentFormat: 22 });
    const post = (records: SenmlRecord[]) => client.request({ method: "POST", path: "r", payload: encodeReading(d.key.privateKey, d.deviceId, d.nextSequence++, records), contentFormat: contentFormat.coseSign1 });
    expect((await post([{ name: "temp", value: 1 }, ...anchor])).code).toBe("2.01");
    const refused = await post([anchor[0]]); // no size record
    expect(refused.code).toBe("4.00");
    expect(refused.payload.toString()).toMatch(/PAYLOAD_ANCHOR/);
  });

  it("a store at its bytesMax answers 5.03 PAYLOAD_STORE_FULL and drops the upload; space comes back with remove()", () => {
    const small = new PayloadStore(join(gw.dataDir, "small"), 3000);
    const u = new Block1Uploads(small, { ...uploads.options, payloadBytesMax: 1 << 20 }, () => now);
    const a = randomBytes(2048);
    const send = (bytes: Uint8Array, num: number, more: boolean) => u.receive({ source: "udp:x:1", digestHex: toHex(sha256(bytes)), block1: { num, more, szx: 6 }, payload: bytes.subarray(num * 1024, (num + 1) * 1024) });
    expect(send(a, 0, true).code).toBe("2.31");
    expect(send(a, 1, false).code).toBe("2.01");
    expect(small.bytesKept).toBe(2048);
    const b = randomBytes(2048);
    expect(send(b, 0, true).code).toBe("5.03");
    expect(u.active).toBe(0);
    expect(small.remove(toHex(sha256(a)))).toBe(true);
    expect(small.bytesKept).toBe(0);
    expect(send(b, 0, true).code).toBe("2.31");
    expect(send(b, 1, false).code).toBe("2.01");
    expect(readdirSync(small.tmpDir)).toEqual([]);
  });

  it("libcoap's coap-client uploads a file with Block1 (-m put -b 1024) and the gateway keeps it under its digest", async () => {
    const binary = ["/usr/bin/coap-client", "/usr/bin/coap-client-notls", "/usr/bin/coap-client-openssl", "/usr/bin/coap-client-gnutls"].find(existsSync);
    expect(binary, "install Debian's libcoap3-bin").toBeDefined();
    const bytes = randomBytes(40_000);
    const hex = toHex(sha256(bytes));
    const file = join(gw.dataDir, "upload.bin");
    writeFileSync(file, bytes);
    const { stdout, stderr } = await promisify(execFile)(binary!, ["-m", "put", "-b", "1024", "-B", "20", "-f", file, `coap://127.0.0.1:${gw.port}/p/${hex}`], { timeout: 30_000 });
    expect(Buffer.from(store.get(hex)!)).toEqual(bytes);
    expect(`${stdout}${stderr}`).not.toMatch(/4\.\d\d|5\.\d\d/);
  });
});
