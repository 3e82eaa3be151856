// `mote net init`: genesis and key files for a local network (gateway/chain/local-network.ts).
import type { Command } from "commander";
import { printTable } from "./output.ts";

export function registerNetCommands(program: Command): void {
  const net = program.command("net").description("create and describe networks");
  net
    .command("init")
    .description("write a genesis file and key files for a local network of gateways (all validators from epoch 0) and a device owner")
    .requiredOption("--dir <dir>", "where genesis.json and the *.key.json files go")
    .option("--gateways <n>", "how many gateways", "4")
    .option("--chain-id <id>", "chain id", "mote-local")
    .option("--base-port <port>", "gateway i listens for peers on 127.0.0.1:(base + i)", "7400")
    .option("--force", "replace an existing genesis.json")
    .option("--contracts", "enable WebAssembly contracts on this chain (genesis parameter contractsEnabled, fixed for the chain's life)")
    .action(async (o: { dir: string; gateways: string; chainId: string; basePort: string; force?: boolean; contracts?: boolean }) => {
      const { initLocalNetwork } = await import("../chain/local-network.ts"); // the chain loads only for this command
      const netw = initLocalNetwork({ dir: o.dir, gateways: Number(o.gateways), chainId: o.chainId, basePort: Number(o.basePort), devicesOwner: true, force: o.force, ...(o.contracts ? { params: { contractsEnabled: 1 } } : {}) });
      console.log(`genesis: ${netw.genesisPath} (chain ${netw.genesis.chainId})`);
      printTable(["gateway", "id", "peer endpoint", "key file"], netw.gateways.map((g) => [g.index, g.id, g.endpoint, g.keyPath]));
      if (netw.owner) console.log(`device owner: ${netw.owner.id} (${netw.owner.keyPath})`);
      console.log("key files hold private keys (mode 0600): keep each with its gateway.");
    });
}
