// Invariants that hold after every block whatever transactions came in whatever order:
// total supply conserved, no negative amounts, candidate backing equals its voters' stakes,
// unbonding totals match their entries, and every reading on chain is counted once per device,
// in its device's log, with sequences increasing up to the device's last.
import { decode } from "../../shared/cbor.ts";
import { toHex } from "../../shared/ed25519.ts";
import { leafHash, merkleRoot } from "../../shared/merkle.ts";
import { logRoot, readingLeafData } from "../../gateway/chain/device-log.ts";
import { accountCodec, candidateCodec, deviceCodec, unbondingCodec } from "../../gateway/chain/records.ts";
import { sequenceWindowBits, windowVerdict } from "../../gateway/chain/sequence-window.ts";
import type { GenesisFile } from "../../gateway/chain/genesis.ts";
import type { ChainStore } from "../../gateway/storage/chain-store.ts";

const limits = { depthMax: 8, itemsMax: 200_000, bytesMax: 1 << 20 };

export function genesisSupply(g: GenesisFile): bigint {
  return BigInt(g.rewardPool ?? "0") + (g.accounts ?? []).reduce((s, a) => s + BigInt(a.balance ?? "0") + BigInt(a.stake ?? "0"), 0n);
}

export function checkInvariants(store: ChainStore, supply: bigint): { readings: number } {
  const fail = (m: string): never => {
    throw new Error(`invariant broken at height ${store.tip()?.height}: ${m}`);
  };
  let total = 0n;
  const backing = new Map<string, bigint>();
  const unbondingByAccount = new Map<string, bigint>();
  for (const [key, value] of store.stateEntries("account/")) {
    const a = accountCodec.from(decode(value, limits));
    if (a.balance < 0n || a.staked < 0n || a.unbonding < 0n) fail(`${key} has a negative amount`);
    total += a.balance + a.staked + a.unbonding;
    for (const c of a.votes) backing.set(toHex(c), (backing.get(toHex(c)) ?? 0n) + a.staked);
    unbondingByAccount.set(key.slice("account/".length), a.unbonding);
  }
  if (total !== supply) fail(`total supply ${total} differs from genesis ${supply}`);
  for (const [key, value] of store.stateEntries("candidate/")) {
    const c = candidateCodec.from(decode(value, limits));
    if (c.votes !== (backing.get(key.slice("candidate/".length)) ?? 0n)) fail(`${key} backing ${c.votes} is not the sum of its voters' stakes`);
  }
  const entries = new Map<string, bigint>();
  for (const [, value] of store.stateEntries("unbonding/")) {
    for (const [id, amount] of unbondingCodec.from(decode(value, limits))) entries.set(toHex(id), (entries.get(toHex(id)) ?? 0n) + amount);
  }
  for (const [id, u] of unbondingByAccount) if ((entries.get(id) ?? 0n) !== u) fail(`account ${id} unbonding ${u} differs from its entries`);
  let readings = 0;
  for (const [key, value] of store.stateEntries("device/")) {
    const d = deviceCodec.from(decode(value, limits));
    // The readings index (primary key device+seq: a sequence can be there once) in log order
    // (arrival on chain) must rebuild exactly the device's log root, and the sequence window
    // must hold exactly the recorded sequences it covers.
    const rows = store.indexes.readingsByDevice(fromHexId(key)).sort((a, b) => a.logIndex - b.logIndex);
    if (rows.length !== d.readings) fail(`${key} counts ${d.readings} readings, the index holds ${rows.length}`);
    if (rows.some((r, i) => r.logIndex !== i)) fail(`${key} log positions are not 0..${rows.length - 1}`);
    const top = rows.reduce((m, r) => Math.max(m, r.sequence), -1);
    if (top !== d.lastSequence) fail(`${key} last sequence ${d.lastSequence} is not its highest reading's ${top}`);
    const recorded = new Set(rows.map((r) => r.sequence));
    for (let s = Math.max(0, d.lastSequence - sequenceWindowBits + 1); s <= d.lastSequence; s++) {
      if ((windowVerdict({ last: d.lastSequence, window: d.window }, s) === "recorded") !== recorded.has(s)) fail(`${key} sequence window disagrees with the index at ${s}`);
    }
    const leaves = rows.map((r) => leafHash(readingLeafData({ sequence: r.sequence, digest: r.digest, height: r.height, gatewayId: r.gatewayId, receivedAtMs: r.receivedAtMs })));
    if (toHex(merkleRoot(leaves)) !== toHex(logRoot(d.logFrontier))) fail(`${key} log root does not match its readings`);
    readings += rows.length;
  }
  if (store.indexes.readingCount() !== readings) fail(`readings index holds ${store.indexes.readingCount()} rows, the devices count ${readings}`);
  return { readings };
}

const fromHexId = (key: string): Uint8Array => new Uint8Array(Buffer.from(key.slice(key.indexOf("/") + 1), "hex"));
