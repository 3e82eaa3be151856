// The TCP layer between gateways on real loopback sockets: the handshake proves each side's key
// (an impostor and a wrong chain are refused), frames over the limit, floods and peers that stop
// reading are cut off, a lost peer is redialled with backoff, and two gateways that dial each other
// at once keep exactly one connection. The handshake's and the cipher's own properties (reflection,
// MITM, tampering, replay) are in test/gateway/p2p-*.test.ts.
import { connect } from "node:net";
import { afterEach, expect, test } from "vitest";
import { pino } from "pino";
import { Handshake } from "../../gateway/p2p/handshake.ts";
import { encodeFrame, FrameDecoder } from "../../gateway/p2p/frame.ts";
import { P2pNetwork } from "../../gateway/p2p/network.ts";
import { P2pError } from "../../gateway/p2p/errors.ts";
import { toHex } from "../../shared/ed25519.ts";
import { simIdentity } from "./sim/keys.ts";

const log = pino({ level: "silent" });
const networks: P2pNetwork[] = [];
afterEach(async () => {
  await Promise.all(networks.splice(0).map((n) => n.close()));
});

interface Seen {
  up: string[];
  down: string[];
  frames: { from: string; bytes: Uint8Array }[];
}

function node(i: number, options: Record<string, number> = {}, chainId = "p2p-test") {
  const id = simIdentity(i);
  const seen: Seen = { up: [], down: [], frames: [] };
  const net = new P2pNetwork({ chainId, publicKey: id.publicKey, privateKey: id.privateKey }, { peerUp: (p) => seen.up.push(p), peerDown: (p) => seen.down.push(p), frame: (from, bytes) => seen.frames.push({ from, bytes }) }, log, { reconnectBaseMs: 50, handshakeTimeoutMs: 500, ...options });
  networks.push(net);
  return { net, seen, id: toHex(id.id) };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

test("frames: split anywhere, joined back; a length over the limit is refused before buffering", () => {
  const d = new FrameDecoder(100);
  const stream = Buffer.concat([encodeFrame(new Uint8Array([1, 2, 3])), encodeFrame(new Uint8Array(0)), encodeFrame(new Uint8Array(100).fill(9))]);
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 7) out.push(...d.push(stream.subarray(i, i + 7)));
  expect(out.map((f) => f.length)).toEqual([3, 0, 100]);
  expect(() => new FrameDecoder(100).push(encodeFrame(new Uint8Array(101)))).toThrow(P2pError);
});

test("two gateways connect, exchange frames, and redial after the other restarts", async () => {
  const a = node(0);
  const b = node(1);
  const addrB = await b.net.listen("127.0.0.1", 0);
  a.net.dial({ host: "127.0.0.1", port: addrB.port });
  await until(() => a.seen.up.length === 1 && b.seen.up.length === 1);
  expect(a.seen.up).toEqual([b.id]);
  a.net.send(b.id, new Uint8Array([42]));
  b.net.broadcast(new Uint8Array([43]));
  await until(() => b.seen.frames.length === 1 && a.seen.frames.length === 1);
  expect(b.seen.frames[0]).toEqual({ from: a.id, bytes: new Uint8Array([42]) });
  await b.net.close();
  await until(() => a.seen.down.length === 1);
  const b2 = node(1);
  await b2.net.listen("127.0.0.1", addrB.port);
  await until(() => a.seen.up.length === 2, 10_000);
});

test("gateways that dial each other at once keep one connection", async () => {
  const a = node(0);
  const b = node(1);
  const [pa, pb] = [await a.net.listen("127.0.0.1", 0), await b.net.listen("127.0.0.1", 0)];
  a.net.dial({ host: "127.0.0.1", port: pb.port });
  b.net.dial({ host: "127.0.0.1", port: pa.port });
  await until(() => a.net.connectedPeers().length === 1 && b.net.connectedPeers().length === 1);
  await new Promise((r) => setTimeout(r, 500));
  a.net.send(b.id, new Uint8Array([1]));
  await until(() => b.seen.frames.length === 1);
  expect(a.net.connectedPeers()).toEqual([b.id]);
  expect(b.net.connectedPeers()).toEqual([a.id]);
});

test("an impostor without the key, a wrong chain, and a silent client are refused", async () => {
  const a = node(0);
  const addr = await a.net.listen("127.0.0.1", 0);
  const victim = simIdentity(1);
  // Claims victim's key but cannot sign for it.
  const impostor = connect(addr.port, "127.0.0.1");
  const closed = new Promise<void>((r) => impostor.on("close", () => r()));
  impostor.on("error", () => undefined);
  const forger = new Handshake("initiator", { chainId: "p2p-test", publicKey: victim.publicKey, privateKey: simIdentity(5).privateKey });
  const forgerFrames = new FrameDecoder(1 << 20);
  impostor.on("data", (chunk: Buffer) => {
    for (const f of forgerFrames.push(chunk)) for (const out of forger.receive(f).send) impostor.writable && impostor.write(encodeFrame(out));
  });
  impostor.write(encodeFrame(forger.hello));
  await closed;
  const other = node(2, {}, "another-chain");
  other.net.dial({ host: "127.0.0.1", port: addr.port });
  const silent = connect(addr.port, "127.0.0.1");
  silent.resume(); // reads (and discards) our hello, says nothing
  await new Promise<void>((r) => silent.on("close", () => r())); // handshake timeout
  expect(a.seen.up).toEqual([]);
});

test("limits: oversized frame, flood and a peer that stops reading each end the connection", async () => {
  const a = node(0, { frameBytesMax: 1000, rateFramesPerS: 100, rateFramesBurst: 100, rateDropsBeforeCloseMax: 50 });
  const b = node(1, { queueBytesMax: 1 << 20, queueFramesMax: 1 << 20 });
  const addr = await a.net.listen("127.0.0.1", 0);
  b.net.dial({ host: "127.0.0.1", port: addr.port });
  await until(() => a.seen.up.length === 1 && b.seen.up.length === 1); // each side opens when the other's auth arrives
  for (let i = 0; i < 400; i++) b.net.send(a.id, new Uint8Array([i & 255]));
  await until(() => a.seen.down.length === 1);
  expect(a.seen.frames.length).toBeLessThanOrEqual(110); // the burst, then drops, then the cut
  await until(() => a.seen.up.length === 2 && b.seen.up.length === 2, 10_000); // b redials
  expect(() => b.net.send(a.id, new Uint8Array(2000))).not.toThrow(); // b's own limit is larger: a refuses it
  await until(() => a.seen.down.length === 2);

  // A peer that proves its key, then stops reading: our queue to it fills and the connection is cut.
  const c = node(3, { queueBytesMax: 256 << 10, queueFramesMax: 1 << 20 });
  const cAddr = await c.net.listen("127.0.0.1", 0);
  const lazy = simIdentity(4);
  const raw = connect(cAddr.port, "127.0.0.1");
  const hs = new Handshake("initiator", { chainId: "p2p-test", privateKey: lazy.privateKey, publicKey: lazy.publicKey });
  raw.write(encodeFrame(hs.hello));
  const decoder = new FrameDecoder(1 << 20);
  raw.on("data", (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) {
      for (const out of hs.receive(f).send) raw.write(encodeFrame(out)); // our auth, after its hello
      raw.pause(); // and never read again
      return;
    }
  });
  await until(() => c.seen.up.length === 1);
  for (let i = 0; i < 200 && c.seen.down.length === 0; i++) {
    c.net.broadcast(new Uint8Array(64 << 10));
    await new Promise((r) => setImmediate(r));
  }
  await until(() => c.seen.down.length === 1);
  raw.destroy();
});

test("a link that reaches sessionFramesMax closes (P2P_SESSION_EXHAUSTED) and the redial makes new keys", async () => {
  // Frame 0 of each direction is the handshake's auth: 5 more frames per session at a limit of 6.
  const a = node(0, { sessionFramesMax: 6 });
  const b = node(1, { sessionFramesMax: 6 });
  const addr = await b.net.listen("127.0.0.1", 0);
  a.net.dial({ host: "127.0.0.1", port: addr.port });
  let sent = 0;
  while (sent < 12) {
    await until(() => a.net.connectedPeers().includes(b.id));
    if (!a.net.send(b.id, new Uint8Array([sent]))) continue; // the 6th: refused, the link closes
    sent++;
    await until(() => b.seen.frames.length === sent);
  }
  await until(() => b.seen.frames.length === 12);
  expect(b.seen.frames.map((f) => f.bytes[0])).toEqual([...Array(12).keys()]);
  expect(a.seen.up.length).toBeGreaterThanOrEqual(3); // 5 + 5 + 2: three sessions, each with its own keys
  expect(a.seen.down.length).toBeGreaterThanOrEqual(2);
});
