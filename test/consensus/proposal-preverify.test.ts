// Proposals' readings verified off the consensus thread (gateway/consensus/proposal-preverify.ts):
// only readings that verify under their enrolled device's key join the process's verified set, a
// frame with nothing left to verify is not held, and frames reach the replica in arrival order even
// when an earlier proposal takes longer to verify.
import { describe, expect, it } from "vitest";
import { generateKeyPairSync, randomInt } from "node:crypto";
import pino from "pino";
import { decodeConsensusMessage, encodeConsensusMessage } from "../../shared/consensus-messages.ts";
import { encodeReading, readingDigest } from "../../shared/reading.ts";
import { decodeTx } from "../../shared/tx.ts";
import { verifiedReadings } from "../../shared/verified-readings.ts";
import { decodeBlock, encodeBlock } from "../../gateway/chain/block.ts";
import { verifiedTxs } from "../../gateway/chain/verified-txs.ts";
import { decodeEnvelope, encodeEnvelope } from "../../gateway/p2p/envelope.ts";
import { InOrderFrames, preverifyProposal } from "../../gateway/consensus/proposal-preverify.ts";
import { batchBody, deviceReading, makeFixture, openChain, signed } from "../chain/fixture.ts";

const frameBytesMax = 1 << 20;

/** The block a proposal frame carries. */
function proposalBlockOf(frame: Uint8Array): Uint8Array {
  const e = decodeEnvelope(frame, frameBytesMax);
  if (e.kind !== "consensus") throw new Error("not a consensus frame");
  const m = decodeConsensusMessage(e.bytes, frameBytesMax);
  if (m.type !== "proposal") throw new Error("not a proposal");
  return m.block;
}

function setup() {
  const f = makeFixture({ gateways: 1, users: 1, devices: 3, label: "proposal-preverify" });
  const { chain } = openChain(f);
  const gateway = f.gateways[0];
  const fee = (n: number) => BigInt(n) * chain.params().readingFee + chain.params().txFee;
  // Built as if the mempool had verified the signatures, so building verifies (and caches) none.
  chain.signaturesVerified = () => true;
  const proposalFrame = (readings: Uint8Array[]) => {
    const tx = signed(chain.chainId, gateway, 0, batchBody(gateway, readings.map((bytes) => ({ bytes, receivedAtMs: Date.now() }))), fee(readings.length));
    const { pending } = chain.build({ timeMs: chain.head().header.timeMs + 1000, proposer: gateway.id, txs: [decodeTx(tx)] });
    expect(pending.block.txs).toHaveLength(1);
    const block = encodeBlock(pending.block);
    const message = encodeConsensusMessage({ type: "proposal", height: 1, round: 0, blockHash: new Uint8Array(32), validator: 0, signature: new Uint8Array(64), block, justification: null });
    return encodeEnvelope({ kind: "consensus", bytes: message });
  };
  return { f, chain, proposalFrame };
}

describe("proposal pre-verification", () => {
  it("adds only readings that verify under their enrolled device's key, and holds nothing once all are known", async () => {
    const { f, chain, proposalFrame } = setup();
    const [a, b] = f.devices;
    const good = [deviceReading(a, 1, randomInt(1e9)), deviceReading(b, 1, randomInt(1e9))];
    const forged = encodeReading(generateKeyPairSync("ed25519").privateKey, b.id, 2, [{ name: "temp", value: 1 }]);
    const key = (d: typeof a) => d.publicKey;
    expect(verifiedReadings.has(readingDigest(good[0]), key(a))).toBe(false);
    const verifying = preverifyProposal(chain, proposalFrame([...good, forged]), frameBytesMax);
    expect(verifying).toBeInstanceOf(Promise);
    await verifying;
    expect(verifiedReadings.has(readingDigest(good[0]), key(a))).toBe(true);
    expect(verifiedReadings.has(readingDigest(good[1]), key(b))).toBe(true);
    expect(verifiedReadings.has(readingDigest(forged), key(b))).toBe(false);
    // Verified under its own device's key only.
    expect(verifiedReadings.has(readingDigest(good[0]), key(b))).toBe(false);
    // Its readings known, a new batch holds nothing: its envelope and attestation are verified on
    // the spot and remembered for execution (gateway/chain/verified-txs.ts).
    const again = proposalFrame(good);
    const tx = decodeTx(decodeBlock(proposalBlockOf(again)).txs[0]);
    expect(verifiedTxs.has(chain.chainId, tx)).toBe(false);
    expect(preverifyProposal(chain, again, frameBytesMax)).toBeUndefined();
    expect(verifiedTxs.has(chain.chainId, tx)).toBe(true);
  });

  it("leaves alone the readings of batches the mempool admitted", async () => {
    const { f, chain, proposalFrame } = setup();
    const fresh = [deviceReading(f.devices[2], 1, randomInt(1e9))];
    const frame = proposalFrame(fresh);
    const txId = decodeTx(decodeBlock(proposalBlockOf(frame)).txs[0]).id;
    expect(preverifyProposal(chain, frame, frameBytesMax, (id) => Buffer.compare(id, txId) === 0)).toBeUndefined();
    expect(verifiedReadings.has(readingDigest(fresh[0]), f.devices[2].publicKey)).toBe(false);
    await preverifyProposal(chain, frame, frameBytesMax, () => false);
    expect(verifiedReadings.has(readingDigest(fresh[0]), f.devices[2].publicKey)).toBe(true);
  });

  it("holds no frame that is not a proposal, or does not decode", () => {
    const { chain } = setup();
    const vote = encodeEnvelope({ kind: "consensus", bytes: encodeConsensusMessage({ type: "prepare", height: 1, round: 0, blockHash: new Uint8Array(32), validator: 0, signature: new Uint8Array(64) }) });
    expect(preverifyProposal(chain, vote, frameBytesMax)).toBeUndefined();
    expect(preverifyProposal(chain, encodeEnvelope({ kind: "status", height: 3, hash: new Uint8Array(32) }), frameBytesMax)).toBeUndefined();
    expect(preverifyProposal(chain, new Uint8Array([0x82, 1, 0xff]), frameBytesMax)).toBeUndefined();
  });

  it("delivers frames in arrival order, at once when nothing waits, and drops past its limit", async () => {
    const delivered: number[] = [];
    const frames = new InOrderFrames(3, pino({ level: "silent" }));
    frames.push(undefined, () => delivered.push(0));
    expect(delivered).toEqual([0]);
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    frames.push(slow, () => delivered.push(1));
    frames.push(undefined, () => delivered.push(2));
    frames.push(Promise.reject(new Error("verification failed")), () => delivered.push(3));
    frames.push(undefined, () => delivered.push(4)); // a fourth waiting frame: over the limit
    await new Promise((r) => setTimeout(r, 20));
    expect(delivered).toEqual([0]);
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(delivered).toEqual([0, 1, 2, 3]);
    frames.push(undefined, () => delivered.push(5));
    expect(delivered).toEqual([0, 1, 2, 3, 5]);
  });
});
