// The mempool: its limits, nonce ordering per author, the reading batch checked against pending
// batches as well as the chain, and clean-up after a block.
import { describe, expect, it } from "vitest";
import { encode } from "../../shared/cbor.ts";
import { readingDigest } from "../../shared/reading.ts";
import { decodeTx, type TxBody } from "../../shared/tx.ts";
import { verifiedReadings } from "../../shared/verified-readings.ts";
import { TxRejected } from "../../gateway/chain/errors.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import { decodeTxResult, readingOutcome } from "../../gateway/chain/reading-outcome.ts";
import { batchBody, deviceReading, makeFixture, openChain, signed } from "./fixture.ts";

const f = makeFixture({ label: "mempool", users: 3 });
const id = f.genesis.chainId;
const now = f.genesis.genesisTimeMs + 1000;
const [alice, bob, carol] = f.users;
const gw = f.gateways[0];
const pay = (who = alice, nonce = 0, amount = 1n) => signed(id, who, nonce, { kind: "transfer", to: bob.id, amount });

const code = (fn: () => unknown): string => {
  try {
    fn();
    return "accepted";
  } catch (e) {
    if (e instanceof TxRejected) return e.code;
    throw e;
  }
};

describe("mempool", () => {
  it("takes an author's transactions in nonce order, without gaps, and refuses duplicates", () => {
    const { mempool } = openChain(f);
    mempool.add(pay(alice, 0), now);
    expect(code(() => mempool.add(pay(alice, 0), now))).toBe("TX_DUPLICATE");
    expect(code(() => mempool.add(pay(alice, 2), now))).toBe("TX_BAD_NONCE");
    mempool.add(pay(alice, 1), now);
    mempool.add(pay(bob, 0), now);
    expect(mempool.nextNonce(alice.id)).toBe(2);
    expect(mempool.take(10).map((t) => t.nonce)).toEqual([0, 1, 0]);
  });

  it("is bounded in transactions, bytes and per author", () => {
    const { chain } = openChain(f);
    const small = new Mempool(chain, { txsMax: 2, perAuthorMax: 1 });
    small.add(pay(alice, 0), now);
    expect(code(() => small.add(pay(alice, 1), now))).toBe("MEMPOOL_AUTHOR_FULL");
    small.add(pay(bob, 0), now);
    expect(code(() => small.add(pay(carol, 0), now))).toBe("MEMPOOL_FULL");
    const tiny = new Mempool(chain, { bytesMax: 100 });
    expect(code(() => tiny.add(pay(alice, 0), now))).toBe("MEMPOOL_FULL");
  });

  it("takes batches whose readings overlap pending ones: the block gives each reading its outcome", () => {
    const { mempool } = openChain(f);
    const d = f.devices[0];
    const r = (seq: number) => ({ bytes: deviceReading(d, seq), receivedAtMs: now });
    mempool.add(signed(id, gw, 0, batchBody(gw, [r(0), r(1)]), 3n), now);
    mempool.add(signed(id, gw, 1, batchBody(gw, [r(1)]), 2n), now);
    expect(mempool.pendingFrom(gw.id)).toBe(2);
    // What is wrong with the batch itself is still refused at once.
    expect(code(() => mempool.add(signed(id, gw, 2, { kind: "readingBatch", attestation: (batchBody(gw, [r(2)]) as Extract<TxBody, { kind: "readingBatch" }>).attestation, readings: [r(3)] }, 2n), now))).toBe("BATCH_BAD_ATTESTATION");
  });

  it("after a block, drops what was included, rejected, or can no longer apply", () => {
    const { chain, mempool } = openChain(f);
    const a0 = mempool.add(pay(alice, 0), now);
    mempool.add(pay(alice, 1), now);
    const b0 = mempool.add(pay(bob, 0), now);
    mempool.add(pay(bob, 1), now);
    // Another proposer's block included alice's first transaction; bob's first was rejected.
    const p = chain.build({ timeMs: now, proposer: gw.id, txs: [a0] }).pending;
    chain.commit(p, null);
    mempool.onCommit([a0], [b0]);
    expect(mempool.take(10).map((t) => [t.authorId[0], t.nonce])).toEqual([[alice.id[0], 1]]);
    expect(mempool.sizeBytes).toBe(mempool.take(10)[0].bytes.length);
  });

  it("remembers what it verified, so the block does not verify it again", () => {
    const { chain, mempool } = openChain(f);
    const tx = mempool.add(pay(alice, 0), now);
    expect(chain.signaturesVerified(tx)).toBe(true);
    // The same transaction with another signature is not "verified": the cache keys the whole bytes.
    const forged = decodeTx(encode([tx.unsigned, new Uint8Array(64).fill(7)]));
    expect(forged.id).toEqual(tx.id);
    expect(chain.signaturesVerified(forged)).toBe(false);
    const p = chain.build({ timeMs: now, proposer: gw.id, txs: [forged] });
    expect(p.rejected.map((r) => r.error.code)).toEqual(["TX_BAD_SIGNATURE"]);
  });

  it("verifies at admission the device signatures execution will need, and only those", () => {
    const { chain, mempool } = openChain(f);
    const d = f.devices[0];
    const aheadMs = chain.params().blockTimeDriftMaxMs + 5000;
    const good = deviceReading(d, 900);
    const ahead = deviceReading(d, 901);
    const forged = deviceReading(d, 902);
    forged[forged.length - 1] ^= 1;
    const readings = [
      { bytes: good, receivedAtMs: now },
      { bytes: ahead, receivedAtMs: now + aheadMs },
      { bytes: forged, receivedAtMs: now },
    ];
    verifiedReadings.clear();
    mempool.add(signed(id, gw, 0, batchBody(gw, readings), 4n), now); // a forged reading never sinks its batch
    const verified = (bytes: Uint8Array) => verifiedReadings.has(readingDigest(bytes), d.publicKey);
    expect([good, ahead, forged].map(verified)).toEqual([true, false, false]);
  });

  it("never lets a remembered batch skip a device signature that admission did not check", () => {
    // At admission the reading is "from the future" (its gateway's clock ran ahead), so its forged
    // signature is never checked there; a later block takes it, and must verify it then.
    const { chain, mempool } = openChain(f);
    const d = f.devices[0];
    const forged = deviceReading(d, 0);
    forged[forged.length - 1] ^= 1;
    const aheadMs = chain.params().blockTimeDriftMaxMs + 5000;
    const tx = mempool.add(signed(id, gw, 0, batchBody(gw, [{ bytes: forged, receivedAtMs: now + aheadMs }]), 2n), now);
    expect(chain.signaturesVerified(tx)).toBe(true); // the envelope and attestation were checked
    const { pending } = chain.build({ timeMs: now + aheadMs, proposer: gw.id, txs: [tx] });
    expect(decodeTxResult(pending.execution.results[0]).readings).toEqual([readingOutcome.badSignature]);
  });
});
