// A CoAP client nobody here wrote: libcoap's coap-client (Debian libcoap3-bin) against the gateway.
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { startTestGateway, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";

const run = promisify(execFile);
// Debian ships the binary per TLS flavour; /usr/bin/coap-client is an alternatives link to one.
const binary = ["/usr/bin/coap-client", "/usr/bin/coap-client-notls", "/usr/bin/coap-client-openssl", "/usr/bin/coap-client-gnutls"].find(existsSync);

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.stop());

/** Posts a file with coap-client; returns its stdout/stderr (the response code is printed at -v 6). */
async function coapPost(path: string, file: string, format: number): Promise<string> {
  // -B: give up after 10 s; -v 6 logs the received message, including its code.
  const { stdout, stderr } = await run(binary!, ["-m", "post", "-t", String(format), "-f", file, "-B", "10", "-v", "6", `coap://127.0.0.1:${t.port}/${path}`], { timeout: 20_000 });
  return `${stdout}\n${stderr}`;
}

describe("libcoap coap-client", () => {
  it("is installed (apt-get install libcoap3-bin)", () => {
    expect(binary, "install Debian's libcoap3-bin").toBeDefined();
  });

  it("gets 2.01 for a valid signed reading, stored once", async () => {
    const d = new TestDevice();
    t.enroll(d);
    const file = join(t.dataDir, "reading.cbor");
    writeFileSync(file, d.reading(19.5));
    const out = await coapPost("r", file, contentFormat.coseSign1);
    expect(out).toMatch(/\b2\.01\b/);
    expect(t.gw.store.allReadings()).toHaveLength(1);
  });

  it("gets 4.00 with a diagnostic for garbage, and the gateway keeps serving", async () => {
    const file = join(t.dataDir, "garbage.bin");
    writeFileSync(file, Buffer.from("this is not a COSE_Sign1"));
    const out = await coapPost("r", file, contentFormat.coseSign1);
    expect(out).toMatch(/\b4\.00\b/);
    expect(out).toContain("MALFORMED");
    const d = new TestDevice();
    t.enroll(d);
    const good = join(t.dataDir, "reading2.cbor");
    writeFileSync(good, d.reading(20));
    expect(await coapPost("r", good, contentFormat.coseSign1)).toMatch(/\b2\.01\b/);
    expect(t.gw.store.allReadings()).toHaveLength(2);
  });
});
