// Sealed gateway links between real processes (issue 14): four gateways (chain on SQLite, PBFT over
// loopback TCP, ingest on UDP), every p2p connection passing through a recording TCP proxy in front
// of the gateway it dials. (a) Devices' readings are finalized at every gateway and a transaction is
// gossiped; none of the plaintexts that crossed the links (reading digests, device ids and keys, the
// readings' signed bytes, the transaction's bytes, id and signature) appears anywhere in the captured
// bytes, in either direction, while the gateways' identity keys (sent in clear in the hellos) do,
// which shows the capture is real. (b) One bit of a frame flipped in flight, once each way: the
// receiving gateway drops the link with P2P_DECRYPT in a structured warning, the link comes back
// (redialled), and consensus keeps finalizing with every gateway agreeing.
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { readingDigest } from "../../shared/reading.ts";
import { decodeTx, signTx, txVersion } from "../../shared/tx.ts";
import { initLocalNetwork } from "../../gateway/chain/local-network.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { TestDevice } from "../support/gateway-fixtures.ts";
import { RecordingTcpProxy, type Direction, type ProxiedConnection } from "../support/recording-tcp-proxy.ts";
import { disagreements, NodeProcess } from "./process-harness.ts";
import { portBase } from "../support/ports.ts";

const dir = mkdtempSync(join(tmpdir(), "mote-p2p-sealed-"));
const nodes: NodeProcess[] = [];
const proxies: RecordingTcpProxy[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
  await Promise.all(proxies.map((p) => p.close()));
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** The structured log lines (pino JSON on stderr) a node wrote with this p2p error code. */
const logged = (n: NodeProcess, code: string) =>
  n.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.code === code);

test("a passive observer of gateway links sees no plaintext; a flipped bit drops the link, which comes back while consensus goes on", { timeout: 240_000 }, async () => {
  const base = portBase("p2pSealed");
  const p2p = (i: number) => base + i; // the gateways' own listeners
  const front = (i: number) => base + 4 + i; // the proxies in front of them: the only addresses anyone dials
  const net = initLocalNetwork({ dir, gateways: 4, devicesOwner: true, params: { blockIntervalMs: 200, epochBlocks: 100_000 }, basePort: base });
  const owner = { privateKey: net.owner!.identity.key, publicKey: net.owner!.identity.publicKey, seed: net.owner!.identity.seed };
  const devices = Array.from({ length: 3 }, () => new TestDevice());
  net.genesis.devices = devices.map((d) => ({ publicKey: toHex(d.key.publicKey), owner: net.owner!.id }));
  // Validators also dial each other's endpoints from the chain: those are the proxies too.
  net.genesis.candidates = net.genesis.candidates!.map((c) => ({ ...c, endpoint: `127.0.0.1:${front(net.gateways.findIndex((g) => g.publicKey === c.publicKey))}` }));
  writeFileSync(net.genesisPath, JSON.stringify(net.genesis));
  for (const g of net.gateways) proxies.push(await RecordingTcpProxy.open({ host: "127.0.0.1", port: p2p(g.index) }, front(g.index)));
  for (const g of net.gateways) {
    const peers = net.gateways.filter((x) => x !== g).map((x) => front(x.index));
    nodes.push(new NodeProcess({ dataDir: join(dir, `node-${g.index}`), genesisPath: net.genesisPath, keyPath: g.keyPath, p2pPort: p2p(g.index), peers, reportReadings: true, trustedOwner: net.owner!.publicKey, ...(g.index === 1 ? { udpPort: base + 8 } : {}) }));
  }
  await Promise.all(nodes.map((n) => n.start()));
  await Promise.all(nodes.map((n) => n.reach(3, 60_000)));

  // (a) Readings from three devices through gateway 1, finalized at every gateway.
  const client = await TestCoapClient.open(base + 8);
  for (const d of devices) expect((await client.request({ method: "POST", path: "e", payload: d.enrollment(owner), contentFormat: contentFormat.cbor })).code).toMatch(/^2\./);
  const readings = devices.flatMap((d) => [0, 1, 2].map((seq) => ({ device: d, seq, cose: d.reading(20 + seq, seq) })));
  const waiting = new Set(nodes.flatMap((_, i) => readings.map((r) => `${i}/${toHex(r.device.deviceId)}/${r.seq}`)));
  nodes.forEach((n, i) => {
    n.onRawEvent = (e) => {
      for (const [device, seq] of (e.readings as [string, number][] | undefined) ?? []) waiting.delete(`${i}/${device}/${seq}`);
    };
  });
  for (const r of readings) expect((await client.request({ method: "POST", path: "r", payload: r.cose, contentFormat: contentFormat.coseSign1 })).code).toBe("2.01");
  await until("every gateway finalizes every reading", () => waiting.size === 0, 60_000);
  await client.close();

  // A transaction submitted at gateway 2 and gossiped: some heights later gateway 0 refuses it as known.
  const tx = signTx(owner.privateKey, net.genesis.chainId, { version: txVersion, author: owner.publicKey, nonce: 0, fee: 100n, body: { kind: "transfer", to: fromHex(net.gateways[3].id), amount: 12_345n } });
  expect((await nodes[2].sendTx(tx)).ok).toBe(true);
  await nodes[0].reach(nodes[2].tip + 8, 30_000);
  const again = await nodes[0].sendTx(tx);
  expect(again.ok, JSON.stringify(again)).toBe(false);

  const decoded = decodeTx(tx);
  const needles: [string, Uint8Array][] = [
    ...readings.flatMap((r): [string, Uint8Array][] => [
      [`digest of ${toHex(r.device.deviceId).slice(0, 8)}/${r.seq}`, readingDigest(r.cose)],
      [`signature of ${toHex(r.device.deviceId).slice(0, 8)}/${r.seq}`, r.cose.subarray(r.cose.length - 64)],
    ]),
    ...devices.flatMap((d): [string, Uint8Array][] => [
      [`device id ${toHex(d.deviceId)}`, d.deviceId],
      [`device key ${toHex(d.key.publicKey).slice(0, 8)}`, d.key.publicKey],
    ]),
    ["the transfer's bytes", tx],
    ["the transfer's id", decoded.id],
    ["the transfer's signature", decoded.signature],
  ];
  // These bytes crossed the links: only gateway 1 heard the devices, and the transfer entered at
  // gateway 2, yet every gateway finalized the readings and gateway 0 knows the transfer.
  const captures = proxies.flatMap((p, i) => p.captures().map((c) => ({ ...c, proxy: i })));
  const total = captures.reduce((s, c) => s + c.bytes.length, 0);
  const found = needles.flatMap(([what, bytes]) => captures.filter((c) => c.bytes.indexOf(bytes) >= 0).map((c) => `${what} in proxy ${c.proxy} connection ${c.connection} ${c.direction}`));
  expect(found).toEqual([]);
  // The capture is real: the hellos (in clear by design) carry each gateway's identity key.
  for (const g of net.gateways) expect(captures.some((c) => c.bytes.indexOf(g.identity.publicKey) >= 0), `identity of gateway ${g.index} in the capture`).toBe(true);
  expect(total).toBeGreaterThan(20_000);

  // (b) One bit flipped in a frame in flight, once each way.
  for (const direction of ["toTarget", "toDialer"] as Direction[]) {
    const pick = (): { proxy: number; c: ProxiedConnection } | undefined => {
      for (const [i, p] of proxies.entries()) for (const c of p.live()) if (c.trackers[direction].frames > 4) return { proxy: i, c };
      return undefined;
    };
    await until("a live link with traffic", () => pick() !== undefined);
    const { proxy, c } = pick()!;
    // The gateway that receives the flipped frame: the proxy's own for toTarget, the dialler otherwise.
    const dialerPort = c.dialer.remotePort;
    const receiver = direction === "toTarget" ? nodes[proxy] : undefined;
    const before = nodes.map((n) => logged(n, "P2P_DECRYPT").length);
    const tipBefore = Math.max(...nodes.map((n) => n.tip));
    const frame = await proxies[proxy].flipNextFrame(c, direction);
    await until("the tampered link is dropped", () => c.closed, 10_000);
    await until("a P2P_DECRYPT warning is logged", () => nodes.some((n, i) => logged(n, "P2P_DECRYPT").length > before[i]), 10_000);
    const who = nodes.findIndex((n, i) => logged(n, "P2P_DECRYPT").length > before[i]);
    if (receiver) expect(nodes[who]).toBe(receiver);
    const line = logged(nodes[who], "P2P_DECRYPT").at(-1)!;
    expect(line).toMatchObject({ level: 40, code: "P2P_DECRYPT", authenticated: true });
    expect(String(line.peer)).toMatch(/^[0-9a-f]{32}$/);
    expect(String(line.address)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(String(line.reason)).toMatch(/failed authentication/);
    expect(String(line.msg)).toMatch(/integrity/);
    console.log(`flip ${direction}: frame ${frame} on proxy ${proxy} (dialler port ${dialerPort}) → gateway ${who} logged ${JSON.stringify({ code: line.code, peer: line.peer, reason: line.reason })}`);
    // Back to a full mesh, and consensus goes on.
    await until("every gateway connected to the three others again", async () => (await Promise.all(nodes.map((n) => n.status()))).every((s) => (s.peers as string[]).length === 3), 30_000);
    await Promise.all(nodes.map((n) => n.reach(tipBefore + 5, 60_000)));
  }
  expect(disagreements(nodes)).toEqual([]);
  console.log(`sealed links: ${captures.length} captured streams, ${total.toLocaleString("en-US")} bytes, ${needles.length} plaintexts searched, none found; chain at ${nodes[0].tip}`);
});
