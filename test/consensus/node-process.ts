// One gateway as a child process, for the real-process tests: the chain core on its SQLite file,
// startConsensusNode on loopback TCP and, when a UDP port is given, the ingest gateway whose
// accepted readings the consensus node turns into batch transactions. This is what the gateway
// process (gateway/cli, `mote gateway start`) will do once wired; see the consensus report.
//
//   node --import tsx test/consensus/node-process.ts '{"dataDir":…,"genesisPath":…,"keyPath":…,"p2pPort":7401,"peers":[7402],"udpPort":5701,"trustedOwner":"<hex>"}'
//
// stdout carries one JSON event per line: {"event":"ready",…}, {"event":"finalized",height,hash,stateRoot,round?}.
// stdin takes one JSON command per line: {"cmd":"tx","hex":…} → {"event":"tx","ok":…,"code"?}.
import { createInterface } from "node:readline";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { contractVmReady } from "../../gateway/contracts/binaryen.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { readGenesisFile } from "../../gateway/chain/genesis.ts";
import { readKeyFile } from "../../gateway/chain/keyfile.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { startConsensusNode } from "../../gateway/consensus/node.ts";
import { defaultConfig, mergeConfig } from "../../gateway/config.ts";
import { IngestGateway } from "../../gateway/ingest/ingest-gateway.ts";
import { createLogger } from "../../gateway/log.ts";
import type { LevelWithSilent } from "pino";
import type { NodeArgs } from "./process-harness.ts";

type Args = NodeArgs;

const args = JSON.parse(process.argv[2]) as Args;
const emit = (event: Record<string, unknown>) => process.stdout.write(JSON.stringify(event) + "\n");
const log = createLogger({ level: (args.logLevel ?? "warn") as LevelWithSilent, destination: 2 });

const store = ChainStore.open(args.dataDir);
const chain = Chain.open(store, readGenesisFile(args.genesisPath));
if (chain.params().contractsEnabled) await contractVmReady();
const mempool = new Mempool(chain);
const identity = readKeyFile(args.keyPath);

let ingest: IngestGateway | undefined;
if (args.udpPort !== undefined) {
  const config = mergeConfig(defaultConfig(), {
    dataDir: args.dataDir,
    udp: { host: "127.0.0.1", port: args.udpPort },
    log: { level: args.logLevel ?? "warn" },
    enrollment: { trustedOwners: args.trustedOwner ? [args.trustedOwner] : [], open: false },
    statsIntervalMs: 0,
    ...(args.ingest ? { ingest: args.ingest } : {}),
  });
  // The chain's pace, as gateway-node.ts gives it: the backlog sheds what would wait too long.
  ingest = await IngestGateway.start(config, log, { blockIntervalMs: () => chain.params().blockIntervalMs });
}

const node = await startConsensusNode({
  dataDir: args.dataDir,
  identity,
  chain,
  mempool,
  listen: { host: "127.0.0.1", port: args.p2pPort },
  peers: args.peers.map((port) => ({ host: "127.0.0.1", port })),
  log,
  readings: ingest?.store,
  consensus: args.consensus,
  onDecided: (height, via, round) => {
    if (via === "sync") emit({ event: "synced", height });
    else if (round > 0) emit({ event: "lateRound", height, round }); // bench:net counts heights that took more than one round
  },
  onFinalized: (head, pending) =>
    emit({
      event: "finalized",
      height: head.height,
      hash: toHex(head.hash),
      stateRoot: toHex(head.header.stateRoot),
      ...(args.reportReadings ? { readings: pending.execution.readings.flat().map((r) => [toHex(r.deviceId), r.sequence]) } : {}),
    }),
});

// As gateway-node.ts wires it: ingest's group commits close in time for the feed's next flush.
if (ingest) ingest.commits.commitBy = () => node.readingsDurableBy();

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line) as { cmd: string; hex?: string };
  if (cmd.cmd === "tx") {
    try {
      const tx = node.submitTx(fromHex(cmd.hex!));
      emit({ event: "tx", ok: true, id: toHex(tx.id) });
    } catch (e) {
      emit({ event: "tx", ok: false, code: (e as { code?: string }).code, message: (e as Error).message });
    }
  } else if (cmd.cmd === "status") {
    emit({ event: "status", ...node.status(), tip: chain.head().height, stateRoot: toHex(chain.head().header.stateRoot), pending: ingest?.store.pendingCount() ?? 0, validators: chain.validators().validators.map((v) => toHex(v.id)) });
  }
});

const stop = async () => {
  await node.close();
  await ingest?.close();
  store.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
emit({ event: "ready", p2pPort: node.address.port, udpPort: ingest?.udpAddress?.port, id: toHex(identity.id), tip: chain.head().height });
