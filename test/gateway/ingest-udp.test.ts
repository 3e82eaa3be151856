// Readings over real loopback UDP into a real gateway with its SQLite store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { verifyBatch } from "../../shared/attestation.ts";
import { publicKeyObject } from "../../shared/ed25519.ts";
import { startTestGateway, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";

let t: TestGateway;
let client: TestCoapClient;

beforeAll(async () => {
  t = await startTestGateway();
  client = await TestCoapClient.open(t.port);
});
afterAll(async () => {
  await client.close();
  await t.stop();
});

const post = (payload: Uint8Array, format: number = contentFormat.coseSign1) => client.request({ method: "POST", path: "r", payload, contentFormat: format });

describe("POST /r", () => {
  it("accepts a signed reading from an enrolled device with 2.01 after storing and co-signing it", async () => {
    const d = new TestDevice();
    t.enroll(d);
    const bytes = d.reading(22.25);
    const reply = await post(bytes);
    expect(reply.code).toBe("2.01");
    expect(reply.payload.length).toBe(0);
    const stored = t.gw.store.allReadings();
    expect(stored).toHaveLength(1);
    expect(Buffer.from(stored[0].cose).equals(Buffer.from(bytes))).toBe(true);
    const att = t.gw.store.attestation(stored[0].batchId)!;
    expect(verifyBatch(att, publicKeyObject(t.gw.identity.publicKey), t.gw.store.batchReadings(stored[0].batchId))).toBe(true);
  });
});
