// CoAP hygiene against hostile datagrams (issue 9, item 7), over real loopback UDP and over a real
// serial line (socat pty pair, SLIP), which share the endpoint's admission and handlers:
//   - an Empty RST or ACK is never answered; an Empty CON (ping) gets a Reset, an Empty NON nothing
//     (RFC 7252 §4.2, §4.3);
//   - no answer to a NON request is larger than the request, and an answer larger than its request
//     carries at most a 32-byte diagnostic (§5.2.3, §11.3; gateway/coap/amplification.ts);
//   - an option number past 65,535 is a message format error: a CON gets a Reset, a NON nothing (§3.1);
//   - valid requests are still served.
import { createSocket } from "node:dgram";
import { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SerialPort } from "serialport";
import { contentFormat } from "../../shared/constants.ts";
import { SlipDecoder, slipEncode } from "../../gateway/coap/slip.ts";
import { diagnosticShortBytesMax } from "../../gateway/coap/amplification.ts";
import { parseMessage, TYPE_ACK, TYPE_NON, TYPE_RST } from "../../gateway/coap/message.ts";
import { buildRequest, codeOf } from "../support/gateway-coap-client.ts";
import { startTestGateway, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";
import { openPtyPair, type PtyPair } from "../../hardware/emulator/pty-pair.ts";

/** How long "no answer" is waited for: loopback and a pty answer in well under a millisecond. */
const silenceMs = 300;
/** How long an expected answer may take (a reading waits for its batch to commit). */
const answerMsMax = 5_000;
/** After the first answer, how long a second (stray) one is waited for. */
const strayMs = 100;

/** Sends one message and returns the messages that came back (none within `waitMs`: an empty list). */
interface Link {
  exchange(bytes: Uint8Array, waitMs?: number): Promise<Buffer[]>;
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
/** One option with a 2-byte extended delta (§3.1, nibble 14): delta = 269 + the 16-bit value. */
const wideDelta = (delta: number) => Buffer.from([0xe0, (delta - 269) >> 8, (delta - 269) & 0xff]);
/** GET /t (Uri-Path 11) as a CON or NON with no token, then one option `delta` above 11. */
const getTimeWith = (type: "CON" | "NON", messageId: number, delta: number) =>
  Buffer.concat([Buffer.from([type === "CON" ? 0x40 : 0x50, 0x01, messageId >> 8, messageId & 0xff, 0xb1, 0x74]), wideDelta(delta)]);

function hygiene(name: string, setup: () => Promise<{ link: Link; gateway: TestGateway; close: () => Promise<void> }>) {
  describe(`CoAP hygiene over ${name}`, () => {
    let link: Link;
    let t: TestGateway;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ link, gateway: t, close } = await setup());
    });
    afterAll(() => close?.());

    it("never answers a Reset or an Empty ACK (§4.2, §4.3)", async () => {
      expect(await link.exchange(hex("70 00 55 55"), silenceMs)).toEqual([]);
      expect(await link.exchange(hex("60 00 55 56"), silenceMs)).toEqual([]);
      // A Reset with a token or payload is malformed (§4.1), and still not answered.
      expect(await link.exchange(hex("71 00 55 57 aa"), silenceMs)).toEqual([]);
    });

    it("answers an Empty CON (ping) with a Reset of the same message id, and ignores an Empty NON", async () => {
      expect((await link.exchange(hex("40 00 12 34"))).map((b) => b.toString("hex"))).toEqual(["70001234"]);
      expect(await link.exchange(hex("50 00 12 35"), silenceMs)).toEqual([]);
    });

    it("does not answer a 6-byte NON request to an unknown path: a 4.04 with a diagnostic would outweigh it", async () => {
      const request = hex("50 01 12 36 b1 78"); // NON GET /x
      expect(request.length).toBe(6);
      expect(await link.exchange(request, silenceMs)).toEqual([]);
      // Nor a NON GET /t: its 2.05 (CBOR time and Content-Format) is larger than the request too.
      expect(await link.exchange(hex("50 01 12 37 b1 74"), silenceMs)).toEqual([]);
    });

    it("answers the same as a CON with a 4.04 whose diagnostic is at most 32 bytes", async () => {
      const [reply, ...more] = await link.exchange(hex("40 01 12 38 b1 78")); // CON GET /x
      expect(more).toEqual([]);
      const m = parseMessage(reply);
      expect([m.type, codeOf(m.code), m.messageId]).toEqual([TYPE_ACK, "4.04", 0x1238]);
      expect(m.payload.toString()).toBe("no resource /x");
      // A long unknown path: the full diagnostic would be 45 bytes and the answer larger than the request.
      const path = "abcdefghijklmnopqrstuvwxyz012345";
      const long = buildRequest({ method: "GET", path }, 0x1239);
      const [cut] = await link.exchange(long);
      const c = parseMessage(cut);
      expect(codeOf(c.code)).toBe("4.04");
      expect(c.payload.toString()).toBe(`no resource /${path}`.slice(0, diagnosticShortBytesMax));
    });

    it("answers a NON request when the answer is no larger: a refused NON reading gets its 4.03 and diagnostic", async () => {
      const request = buildRequest({ method: "POST", path: "r", payload: new TestDevice().reading(), contentFormat: contentFormat.coseSign1, confirmable: false }, 0x123a);
      const [reply, ...more] = await link.exchange(request);
      expect(more).toEqual([]);
      const m = parseMessage(reply);
      expect([m.type, codeOf(m.code)]).toEqual([TYPE_NON, "4.03"]);
      expect(m.payload.toString()).toMatch(/^UNKNOWN_DEVICE: device [0-9a-f]+ is not enrolled/);
      expect(reply.length).toBeLessThanOrEqual(request.length);
    });

    it("refuses option numbers past 65,535 (§3.1) as a format error: CON → Reset, NON → nothing", async () => {
      // 11 + 65,525 = 65,536: one past the 16-bit option number space.
      expect((await link.exchange(getTimeWith("CON", 0x4242, 65_525))).map((b) => b.toString("hex"))).toEqual(["70004242"]);
      expect(await link.exchange(getTimeWith("NON", 0x4243, 65_525), silenceMs)).toEqual([]);
      // Two wide deltas that sum past it (11 + 65,000 + 1,000): each alone is in range.
      const summed = Buffer.concat([hex("40 01 42 44 b1 74"), wideDelta(65_000), wideDelta(1_000)]);
      expect((await link.exchange(summed)).map((b) => b.toString("hex"))).toEqual(["70004244"]);
      // The largest delta a 2-byte extension can carry: 65,804.
      expect((await link.exchange(getTimeWith("CON", 0x4245, 65_804))).map((b) => b.toString("hex"))).toEqual(["70004245"]);
    });

    it("still serves valid requests, including one with option 65,534 (elective, ignored)", async () => {
      const [time] = await link.exchange(getTimeWith("CON", 0x4246, 65_523));
      const m = parseMessage(time);
      expect([m.type, codeOf(m.code), m.messageId]).toEqual([TYPE_ACK, "2.05", 0x4246]);
      const d = new TestDevice();
      t.enroll(d);
      const [posted] = await link.exchange(buildRequest({ method: "POST", path: "r", payload: d.reading(21), contentFormat: contentFormat.coseSign1 }, 0x4247));
      expect(codeOf(parseMessage(posted).code)).toBe("2.01");
      expect(t.gw.store.allReadings().filter((r) => Buffer.from(r.deviceId).equals(Buffer.from(d.deviceId)))).toHaveLength(1);
      // Nothing above left a stray answer behind (a late 4.04 to the Reset, say).
      expect(await link.exchange(hex("70 00 55 58"), silenceMs)).toEqual([]);
    });

    it("never answers a Reset even when its message id is one the gateway just answered", async () => {
      const [pong] = await link.exchange(hex("40 00 77 77"));
      expect(parseMessage(pong).type).toBe(TYPE_RST);
      expect(await link.exchange(hex("70 00 77 77"), silenceMs)).toEqual([]);
    });
  });
}

/** Sends with `send`; collects the `message` events of `from` until `waitMs`, or `strayMs` after the first. */
function collector(from: EventEmitter, send: (bytes: Uint8Array) => void): Link {
  return {
    exchange(bytes, waitMs = answerMsMax) {
      return new Promise((resolve) => {
        const got: Buffer[] = [];
        const done = () => {
          clearTimeout(timer);
          from.off("message", on);
          resolve(got);
        };
        const on = (b: Buffer) => {
          if (got.push(b) === 1) setTimeout(done, strayMs);
        };
        const timer = setTimeout(done, waitMs);
        from.on("message", on);
        send(bytes);
      });
    },
  };
}

hygiene("UDP", async () => {
  const gateway = await startTestGateway();
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const link = collector(socket, (bytes) => socket.send(bytes, gateway.port, "127.0.0.1"));
  const close = async () => {
    await new Promise<void>((r) => socket.close(() => r()));
    await gateway.stop();
  };
  return { link, gateway, close };
});

hygiene("a serial line (SLIP)", async () => {
  const pty: PtyPair = await openPtyPair();
  const gateway = await startTestGateway({ udp: null, serial: [{ path: pty.a }] });
  const peer = new SerialPort({ path: pty.b, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((r, j) => peer.open((e) => (e ? j(e) : r())));
  const frames = new EventEmitter();
  const decoder = new SlipDecoder(1280, (f) => frames.emit("message", f));
  peer.on("data", (c: Buffer) => decoder.push(c));
  const link = collector(frames, (bytes) => peer.write(slipEncode(bytes)));
  const close = async () => {
    await new Promise<void>((r) => peer.close(() => r()));
    await gateway.stop();
    await pty.close();
  };
  return { link, gateway, close };
});
