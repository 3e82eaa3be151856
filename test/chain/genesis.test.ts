// Genesis and `mote net init`: the files it writes, the chain they start, and the refusals.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { headerHash } from "../../gateway/chain/block.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { genesisBlock, readGenesisFile, type GenesisFile } from "../../gateway/chain/genesis.ts";
import { readKeyFile } from "../../gateway/chain/keyfile.ts";
import { initLocalNetwork } from "../../gateway/chain/local-network.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "mote-genesis-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe("genesis and local networks", () => {
  it("initLocalNetwork writes a genesis and key files that start a chain with every gateway a validator", () => {
    const dir = tempDir();
    const net = initLocalNetwork({ dir, gateways: 4, devicesOwner: true, genesisTimeMs: 1_700_000_000_000 });
    expect(existsSync(join(dir, "genesis.json"))).toBe(true);
    for (const g of net.gateways) {
      expect(statSync(g.keyPath).mode & 0o777).toBe(0o600);
      expect(toHex(readKeyFile(g.keyPath).publicKey)).toBe(g.publicKey);
    }
    expect(toHex(readKeyFile(net.owner!.keyPath).id)).toBe(net.owner!.id);
    const chain = Chain.open(ChainStore.open(join(dir, "gw1")), readGenesisFile(net.genesisPath));
    expect(chain.validators().validators.map((v) => toHex(v.id)).sort()).toEqual(net.gateways.map((g) => g.id).sort());
    expect(chain.state().account(net.owner!.identity.id).balance).toBe(1_000_000n);
    expect(codeOf(() => initLocalNetwork({ dir, gateways: 1 }))).toBe("NET_EXISTS");
    expect(codeOf(() => initLocalNetwork({ dir: tempDir(), gateways: 0 }))).toBe("NET_GATEWAYS");
  });

  it("the genesis hash is a function of the file; another file cannot open the same data directory", () => {
    const dir = tempDir();
    const net = initLocalNetwork({ dir, gateways: 1, genesisTimeMs: 1 });
    const g = net.genesis;
    expect(toHex(headerHash(genesisBlock(g).header))).toBe(toHex(headerHash(genesisBlock(structuredClone(g)).header)));
    const changed: GenesisFile = { ...g, params: { ...g.params, txFee: "2" } };
    expect(toHex(headerHash(genesisBlock(changed).header))).not.toBe(toHex(headerHash(genesisBlock(g).header)));
    const store = ChainStore.open(join(dir, "data"));
    Chain.open(store, g);
    expect(codeOf(() => Chain.open(store, changed))).toBe("GENESIS_MISMATCH");
    store.close();
  });

  it("refuses genesis files that cannot start a chain, saying what is wrong", () => {
    const base = initLocalNetwork({ dir: tempDir(), gateways: 1, genesisTimeMs: 1 }).genesis;
    expect(codeOf(() => genesisBlock({ ...base, candidates: [] }))).toBe("GENESIS_INVALID");
    expect(codeOf(() => genesisBlock({ ...base, params: { nonsense: 1 } }))).toBe("GENESIS_PARAM");
    expect(codeOf(() => genesisBlock({ ...base, params: { validatorsMax: 0 } }))).toBe("GENESIS_PARAM");
    expect(codeOf(() => genesisBlock({ ...base, chainId: "bad id!" }))).toBe("GENESIS_INVALID");
    expect(codeOf(() => genesisBlock({ ...base, accounts: [{ id: "zz", balance: "1" }] }))).toBe("GENESIS_INVALID");
    expect(codeOf(() => genesisBlock({ ...base, accounts: base.accounts!.map((a) => ({ ...a, stake: "1" })) }))).toBe("GENESIS_INVALID");
    expect(codeOf(() => genesisBlock({ ...base, rewardPool: "-5" }))).toBe("GENESIS_INVALID");
  });
});
