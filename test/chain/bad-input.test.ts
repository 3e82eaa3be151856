// Bad input (issue 4, "Must show"): malformed, mis-signed, wrong-nonce, oversize and unknown-type
// transactions (and the reading batch's own failure modes) are rejected with a typed reason, by
// the mempool and by the state machine, and change nothing: a block built with them has the same
// state root as a block built without them.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encode } from "../../shared/cbor.ts";
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx, txVersion } from "../../shared/tx.ts";
import { txRootOf } from "../../gateway/chain/block.ts";
import { TxRejected } from "../../gateway/chain/errors.ts";
import { decodeTxResult, readingOutcomeNames } from "../../gateway/chain/reading-outcome.ts";
import { batchBody, deviceReading, makeFixture, openChain, seedIdentity, signed } from "./fixture.ts";

const f = makeFixture({ gateways: 1, label: "bad-input" });
const chainId = f.genesis.chainId;
const [alice, bob] = f.users;
const gw = f.gateways[0];
const t0 = f.genesis.genesisTimeMs + 1000;
const reading = (d = f.devices[0], seq = 0) => ({ bytes: deviceReading(d, seq), receivedAtMs: t0 });

function rejectionOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof TxRejected) return e.code;
    throw e;
  }
  return "accepted";
}

const cases: [string, () => Uint8Array, string][] = [
  ["malformed bytes", () => Uint8Array.of(0x82, 0x41), "TX_MALFORMED"],
  ["not deterministic CBOR (indefinite length)", () => Uint8Array.of(0x9f, 0xff), "TX_MALFORMED"],
  ["mis-signed", () => {
    const tx = signed(chainId, alice, 0, { kind: "transfer", to: bob.id, amount: 5n });
    tx[tx.length - 10] ^= 0x20;
    return tx;
  }, "TX_BAD_SIGNATURE"],
  ["signed for another chain", () => signed("another-chain", alice, 0, { kind: "transfer", to: bob.id, amount: 5n }), "TX_BAD_SIGNATURE"],
  ["signed by someone else", () => {
    const unsigned = decodeTx(signed(chainId, alice, 0, { kind: "transfer", to: bob.id, amount: 5n })).unsigned;
    return encode([unsigned, decodeTx(signed(chainId, bob, 0, { kind: "transfer", to: bob.id, amount: 5n })).signature]);
  }, "TX_BAD_SIGNATURE"],
  ["wrong nonce (ahead)", () => signed(chainId, alice, 3, { kind: "transfer", to: bob.id, amount: 5n }), "TX_BAD_NONCE"],
  ["oversize", () => encode([encode([txVersion, 5, alice.publicKey, 0, 1, [Array.from({ length: 300 }, (_, i) => new Uint8Array(16).fill(i & 0xff))]]), new Uint8Array(64)]), "TX_TOO_LARGE"],
  ["over the whole-transaction limit", () => new Uint8Array((1 << 20) + 1), "TX_TOO_LARGE"],
  ["unknown type", () => encode([encode([txVersion, 77, alice.publicKey, 0, 1, []]), new Uint8Array(64)]), "TX_UNKNOWN_TYPE"],
  ["unknown version", () => encode([encode([2, 1, alice.publicKey, 0, 1, []]), new Uint8Array(64)]), "TX_VERSION"],
  ["zero amount", () => signed(chainId, alice, 0, { kind: "transfer", to: bob.id, amount: 0n }), "TX_MALFORMED"],
  ["fee below the minimum", () => signed(chainId, alice, 0, { kind: "transfer", to: bob.id, amount: 5n }, 0n), "TX_FEE_TOO_LOW"],
  ["more than the balance", () => signed(chainId, alice, 0, { kind: "transfer", to: bob.id, amount: 10n ** 12n }), "TX_INSUFFICIENT_FUNDS"],
  ["batch from a non-gateway", () => signed(chainId, alice, 0, batchBody(alice, [reading()])), "GATEWAY_NOT_REGISTERED"],
  ["batch whose attestation covers other readings", () => {
    const body = batchBody(gw, [reading()]);
    return signed(chainId, gw, 0, { ...body, readings: [reading(f.devices[0], 1)] } as typeof body);
  }, "BATCH_BAD_ATTESTATION"],
  ["revoke by a non-owner", () => signed(chainId, alice, 0, { kind: "revokeDevice", deviceId: f.devices[0].id }), "DEVICE_NOT_OWNER"],
  ["parameter vote by a non-validator", () => signed(chainId, alice, 0, { kind: "paramVote", name: "txFee", value: 2n }), "NOT_VALIDATOR"],
  ["vote for a non-candidate", () => signed(chainId, alice, 0, { kind: "vote", candidates: [bob.id] }), "CANDIDATE_UNKNOWN"],
];

describe("bad input", () => {
  it.each(cases)("%s → mempool refuses with a typed reason", (_, make, code) => {
    const { mempool } = openChain(f);
    expect(rejectionOf(() => mempool.add(make(), t0))).toBe(code);
    expect(mempool.size).toBe(0);
  });

  it("the state machine rejects the same transactions and they change nothing", () => {
    const { chain } = openChain(f);
    const decodable = cases.map(([, make]) => make()).flatMap((b) => {
      try {
        return [decodeTx(b)];
      } catch {
        return [];
      }
    });
    const withBad = chain.build({ timeMs: t0, proposer: gw.id, txs: decodable });
    const empty = chain.build({ timeMs: t0, proposer: gw.id, txs: [] });
    expect(withBad.pending.execution.txs).toHaveLength(0);
    expect(withBad.rejected.map((r) => r.error.code).sort()).toEqual(cases.filter(([, , c]) => !["TX_MALFORMED", "TX_TOO_LARGE", "TX_UNKNOWN_TYPE", "TX_VERSION"].includes(c)).map(([, , c]) => c).sort());
    expect(toHex(withBad.pending.block.header.stateRoot)).toBe(toHex(empty.pending.block.header.stateRoot));
  });

  it("readings bad on their own land with their outcome; the rest of their batch is recorded", () => {
    const { chain, mempool } = openChain(f);
    const forged = { bytes: deviceReading(f.devices[1], 0).slice(), receivedAtMs: t0 };
    forged.bytes[forged.bytes.length - 1] ^= 1;
    const readings = [reading(f.devices[0], 0), forged, reading(seedIdentity("stranger"), 0), reading(f.devices[0], 5), reading(f.devices[0], 4), { bytes: Uint8Array.of(1, 2, 3), receivedAtMs: t0 }, reading(f.devices[0], 0), { bytes: deviceReading(f.devices[0], 0, 99), receivedAtMs: t0 }, { ...reading(f.devices[2], 0), receivedAtMs: t0 + 10 * 60_000 }];
    const tx = mempool.add(signed(chainId, gw, 0, batchBody(gw, readings)), t0);
    // Envelope and attestation verified (gateway/chain/verified-txs.ts); device signatures are checked
    // per reading at execution whatever the mempool saw, so the forged one still gets its outcome.
    expect(chain.signaturesVerified(tx)).toBe(true);
    const { pending } = chain.build({ timeMs: t0, proposer: gw.id, txs: [tx] });
    const outcomes = decodeTxResult(pending.execution.results[0]).readings.map((o) => readingOutcomeNames[o]);
    expect(outcomes).toEqual(["READING_RECORDED", "READING_BAD_SIGNATURE", "DEVICE_UNKNOWN", "READING_RECORDED", "READING_RECORDED", "READING_MALFORMED", "READING_DUPLICATE", "READING_EQUIVOCATION", "READING_FROM_FUTURE"]);
    expect(pending.execution.readings[0].map((r) => r.sequence)).toEqual([0, 5, 4]);
  });

  it("a validator refuses a block that is invalid in any part, with a typed reason", () => {
    const a = openChain(f);
    const good = a.chain.build({ timeMs: t0, proposer: gw.id, txs: [decodeTx(signed(chainId, alice, 0, { kind: "transfer", to: bob.id, amount: 5n }))] }).pending.block;
    const bad = signed(chainId, alice, 1, { kind: "transfer", to: bob.id, amount: 10n ** 12n });
    const b = openChain(f);
    const codeOf = (block: typeof good, nowMs?: number): string => {
      try {
        b.chain.validate(block, { nowMs });
        return "valid";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    const h = good.header;
    expect(codeOf(good)).toBe("valid");
    expect(codeOf({ ...good, txs: [...good.txs, bad], header: { ...h, txRoot: txRootOf([...good.txs, bad]) } })).toBe("BLOCK_TX_INVALID");
    expect(codeOf({ ...good, txs: [...good.txs, Uint8Array.of(1)], header: { ...h, txRoot: txRootOf([...good.txs, Uint8Array.of(1)]) } })).toBe("BLOCK_TX_INVALID");
    expect(codeOf({ ...good, header: { ...h, stateRoot: new Uint8Array(32) } })).toBe("BLOCK_STATE_ROOT");
    expect(codeOf({ ...good, header: { ...h, previousHash: new Uint8Array(32) } })).toBe("BLOCK_PARENT");
    expect(codeOf({ ...good, header: { ...h, height: 2 } })).toBe("BLOCK_HEIGHT");
    expect(codeOf({ ...good, header: { ...h, timeMs: f.genesis.genesisTimeMs } })).toBe("BLOCK_TIME");
    expect(codeOf(good, h.timeMs - 60_000)).toBe("BLOCK_TIME_FUTURE");
    expect(codeOf({ ...good, header: { ...h, proposer: alice.id } })).toBe("BLOCK_PROPOSER");
    expect(codeOf({ ...good, header: { ...h, chainId: "other" } })).toBe("BLOCK_WRONG_CHAIN");
    expect(codeOf({ ...good, lastCommit: new Uint8Array(8) })).toBe("BLOCK_LAST_COMMIT");
    expect(codeOf({ ...good, header: { ...h, lastCommitHash: new Uint8Array(32).fill(1) } })).toBe("BLOCK_HEADER");
    expect(b.chain.head().height).toBe(0); // nothing was committed by any of it
  });

  it("any single-byte change to a valid transaction is refused with a typed reason", () => {
    const { mempool } = openChain(f);
    const valid = signed(chainId, gw, 0, batchBody(gw, [reading(f.devices[0], 0), reading(f.devices[1], 0)]));
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bytes = valid.slice();
        bytes[at] ^= xor;
        expect(rejectionOf(() => mempool.add(bytes, t0))).not.toBe("accepted");
      }),
      { numRuns: 400 },
    );
    expect(mempool.size).toBe(0);
    mempool.add(valid, t0); // and the original is fine
  });

  it("random bytes never get past decoding", () => {
    const { mempool } = openChain(f);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(["TX_MALFORMED", "TX_UNKNOWN_TYPE", "TX_VERSION", "TX_TOO_LARGE"]).toContain(rejectionOf(() => mempool.add(bytes, t0)));
      }),
      { numRuns: 2000 },
    );
  });
});
