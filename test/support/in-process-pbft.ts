// A PBFT network of gateways inside the test's own process, over loopback TCP/UDP and SQLite files:
// `mote net init`'s layout (initLocalNetwork) with one genesis device, each gateway started with the
// test's additions to its configuration. The network tests of expiry, snapshots and payloads share it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { toHex } from "../../shared/ed25519.ts";
import { initLocalNetwork, type LocalNetwork } from "../../gateway/chain/local-network.ts";
import { defaultConfig, mergeConfig } from "../../gateway/config.ts";
import { GatewayNode } from "../../gateway/node/gateway-node.ts";
import { TestDevice } from "./gateway-fixtures.ts";

export interface InProcessPbftOptions {
  dir: string;
  gateways: number;
  /** Validator i's p2p port is basePort + i (the genesis names them). */
  basePort: number;
  params: Record<string, number>;
  /** What gateway i's configuration adds (API port, payload peers...). */
  configFor?: (i: number) => Record<string, unknown>;
  /** Started gateways are pushed here as they start, so the caller closes them even if a later one fails. */
  nodes: GatewayNode[];
}

export async function startInProcessPbft(o: InProcessPbftOptions): Promise<{ net: LocalNetwork; device: TestDevice }> {
  const net = initLocalNetwork({ dir: o.dir, gateways: o.gateways, devicesOwner: true, params: o.params, basePort: o.basePort });
  const device = new TestDevice();
  net.genesis.devices = [{ publicKey: toHex(device.key.publicKey), owner: net.owner!.id }];
  writeFileSync(net.genesisPath, JSON.stringify(net.genesis));
  for (const [i, g] of net.gateways.entries()) {
    const peers = net.gateways.filter((_, j) => j !== i).map((x) => x.endpoint);
    const config = mergeConfig(defaultConfig(), {
      dataDir: join(o.dir, `gateway-${g.index}`),
      udp: { host: "127.0.0.1", port: 0 },
      statsIntervalMs: 0,
      network: { genesis: net.genesisPath, key: g.keyPath, consensus: "pbft", p2p: { host: "127.0.0.1", port: o.basePort + g.index }, peers },
      api: { host: "127.0.0.1", port: 0 },
      ...o.configFor?.(i),
    });
    o.nodes.push(await GatewayNode.start(config, pino({ level: process.env.MOTE_TEST_LOG ?? "silent" })));
  }
  return { net, device };
}
