// kill -9 the gateway process while boards are sending; after a restart on the same data directory
// every reading a board saw acknowledged is in the store, and in the end every reading signed is
// stored exactly once (the boards' retransmissions reach the restarted gateway).
import { afterEach, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { toHex } from "../../shared/ed25519.ts";
import { encodeEnrollment } from "../../shared/enrollment.ts";
import { PendingStore } from "../../gateway/ingest/pending-store.ts";
import { Board } from "../../hardware/emulator/board.ts";
import { makeKey, tempDir } from "../support/gateway-fixtures.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { ScaledClock } from "../../hardware/emulator/clock.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";

const boardCount = 20;
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("crash: kill -9 while devices send", () => {
  it("loses no acknowledged reading and stores none twice", async () => {
    const dir = tempDir("mote-crash-");
    cleanups.push(() => dir.remove());
    const owner = makeKey();
    const args = (port: number) => ["--data-dir", `${dir.path}/gw`, "--udp-host", "127.0.0.1", "--udp-port", String(port), "--trust-owner", toHex(owner.publicKey), "--log-level", "info"];
    let gw: GatewayProcess = await startGatewayProcess(args(0));
    cleanups.push(() => gw.kill9());
    const port = gw.port;

    const clock = new ScaledClock(10);
    const boards = await Promise.all(Array.from({ length: boardCount }, (_, i) => Board.boot({ dataDir: `${dir.path}/board${i}`, link: { kind: "udp", host: "127.0.0.1", port }, clock })));
    cleanups.push(() => Promise.all(boards.map((b) => b.close())));
    // Enrolled over CoAP, as an owner's tool would do it.
    const client = await TestCoapClient.open(port);
    for (const b of boards) {
      const reply = await client.request({ method: "POST", path: "e", payload: encodeEnrollment(owner.privateKey, owner.publicKey, b.publicKey), contentFormat: contentFormat.cbor });
      expect(reply.code).toBe("2.01");
    }
    await client.close();

    // Boards keep signing readings (whenever their outbox has room) until told to stop.
    const signed = boards.map(() => [] as number[]);
    let sending = true;
    const producer = (async () => {
      while (sending) {
        boards.forEach((b, i) => {
          if (b.pending() < 4) signed[i].push(b.reading(i % 6, Math.random() * 100));
        });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const ackedTotal = () => boards.reduce((n, b) => n + b.stat("readingsAcked"), 0);
    while (ackedTotal() < 300) await new Promise((r) => setTimeout(r, 10));
    await gw.kill9();
    // The outbox is FIFO with one exchange at a time, so a board's acknowledged readings are the
    // first `readingsAcked` it signed. Every ACK that arrives was sent before the kill, after its commit.
    await new Promise((r) => setTimeout(r, 50));
    const acked = boards.map((b, i) => signed[i].slice(0, b.stat("readingsAcked")));
    expect(boards.every((b) => b.stat("readingsRejected") === 0)).toBe(true);

    const store = PendingStore.open(`${dir.path}/gw`);
    const storedKeys = new Set(store.allReadings().map((r) => `${toHex(r.deviceId)}/${r.sequence}`));
    store.close();
    const missing = boards.flatMap((b, i) => acked[i].filter((seq) => !storedKeys.has(`${b.deviceIdHex}/${seq}`)));
    expect(missing, "acknowledged readings lost by the crash").toEqual([]);
    expect(acked.flat().length).toBeGreaterThanOrEqual(300);

    // Restart on the same port: the boards' pending exchanges go through, nothing twice.
    gw = await startGatewayProcess(args(port));
    sending = false;
    await producer;
    await Promise.all(boards.map((b) => b.idle(120_000)));
    expect(await gw.stop()).toBe(0);
    const after = PendingStore.open(`${dir.path}/gw`);
    const keys = after.allReadings().map((r) => `${toHex(r.deviceId)}/${r.sequence}`);
    after.close();
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(keys)).toEqual(new Set(boards.flatMap((b, i) => signed[i].map((s) => `${b.deviceIdHex}/${s}`))));
  });
});
