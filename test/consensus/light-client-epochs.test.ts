// The light verifier over a long history (issue 9 item 6): PBFT on the real chain core with two-block
// epochs, a spare validator staked into the set mid-run, so the walk crosses real membership changes
// as well as epoch-only ones. From the genesis file alone the client takes the walk a gateway
// serves (gateway/api/provenance.ts epochTransitions: each epoch's last header, its certificate and
// the set it announces), reaches the head more than five epochs on, then checks a block of epoch 0
// behind it with the genesis set. Tampered sets and certificates anywhere in the walk fail.
import { expect, test } from "vitest";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { decodeCertificate } from "../../shared/consensus-messages.ts";
import { decodeHeader } from "../../gateway/chain/block.ts";
import { isEpochEnd } from "../../gateway/chain/dpos.ts";
import { genesisBlock } from "../../gateway/chain/genesis.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
import { epochTransitions } from "../../gateway/api/provenance.ts";
import { decodeEpochTransition, LightClient, LightClientError, walkEpochs, type EpochTransition } from "../../gateway/consensus/light-client.ts";
import { runStakedChain } from "./sim/staked-chain.ts";
import { errorCode } from "../support/error-code.ts";

const code = (fn: () => void): string | undefined => errorCode(LightClientError, fn);

test("light client: walks every epoch's set hand-over from genesis, checks an epoch-0 block behind the head; tampering fails", () => {
  const n = 4;
  const epochBlocks = 2;
  const checked = runStakedChain({ chainId: "light-epochs", seed: 11, n, epochBlocks: epochBlocks }, (node, ids) => {
    const chain = node.chain!;
    const store = chain.store;
    const tip = store.tip()!.height;
    const headEpoch = Math.floor((tip - 1) / epochBlocks);
    expect(headEpoch).toBeGreaterThan(5);

    // The wire form a gateway serves, decoded by the client.
    const wire = epochTransitions(chain, 0, headEpoch);
    const walk: EpochTransition[] = wire.map((t) => decodeEpochTransition({ header: fromHex(t.header), certificate: fromHex(t.certificate!), nextSet: fromHex(t.nextSet) }));
    const members = (k: number) => walk[k].nextSet.validators.map((v) => toHex(v.id)).sort().join();
    const g = genesisBlock(node.genesis);
    expect(new Set(walk.map((_, k) => members(k))).size).toBeGreaterThan(1); // a real membership change
    expect(walk.every((t) => isEpochEnd(t.header.height, epochBlocks))).toBe(true);

    const fromGenesis = () => new LightClient(g.header, g.validators);
    const lc = fromGenesis();
    walkEpochs(lc, walk);
    const header = (h: number) => decodeHeader(store.block(h)!.header);
    const cert = (h: number) => decodeCertificate(store.block(h)!.certificate!);
    lc.verify(header(tip), cert(tip));
    expect(lc.height).toBe(tip);
    // Epoch 0's block 1, behind the head: the genesis set certified it.
    expect(toHex(lc.checkCertified(header(1), cert(1)))).toBe(toHex(store.block(1)!.hash));
    // Every epoch's set is in the state the client now trusts.
    for (let k = 0; k < headEpoch; k++) {
      const p = chain.prove(stateKey.epochValidators(k));
      expect(verifyStateProof(lc.header, stateKey.epochValidators(k), p.value, p.proof)).toBe(true);
    }

    // Tampering: a set with one member's key altered; the right members under
    // another epoch number (a set's hash covers its epoch); a certificate signature flipped; a certificate missing a quorum; a transition
    // left out; transitions out of order.
    const k = 3;
    const forged = { ...walk[k], nextSet: { ...walk[k].nextSet, validators: walk[k].nextSet.validators.map((v, i) => (i === 0 ? { ...v, publicKey: v.publicKey.map((x, j) => (j === 0 ? x ^ 1 : x)) } : v)) } };
    const at = (i: number, t: EpochTransition) => walk.map((x, j) => (j === i ? t : x));
    expect(code(() => walkEpochs(fromGenesis(), at(k, forged)))).toBe("LIGHT_SET_MISMATCH");
    expect(code(() => walkEpochs(fromGenesis(), at(k, { ...walk[k], nextSet: { ...walk[k].nextSet, epoch: walk[k].nextSet.epoch + 1 } })))).toBe("LIGHT_SET_MISMATCH");
    const c = walk[k].certificate;
    const flipped = { ...c, votes: c.votes.map(([id, s], i) => [id, i === 1 ? s.map((x, j) => (j === 5 ? x ^ 0x10 : x)) : s] as [Uint8Array, Uint8Array]) };
    expect(code(() => walkEpochs(fromGenesis(), at(k, { ...walk[k], certificate: flipped })))).toBe("CERT_SIGNATURE");
    expect(code(() => walkEpochs(fromGenesis(), at(k, { ...walk[k], certificate: { ...c, votes: c.votes.slice(0, 2) } })))).toBe("CERT_QUORUM");
    expect(code(() => walkEpochs(fromGenesis(), walk.filter((_, j) => j !== k)))).toBe("LIGHT_SET_UNKNOWN");
    expect(code(() => walkEpochs(fromGenesis(), [walk[1], walk[0], ...walk.slice(2)]))).toBe("LIGHT_SET_UNKNOWN");
    // A forged certificate for block 1 does not check against the genesis set either.
    expect(code(() => lc.checkCertified(header(1), { ...cert(1), votes: cert(1).votes.slice(0, 1) }))).toBe("CERT_QUORUM");
  });
  expect(checked).toBe(true);
});
