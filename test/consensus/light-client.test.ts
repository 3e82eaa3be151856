// The light verifier against a chain that PBFT built on the real chain core (four validators and a
// spare that DPoS elects mid-run, so the set changes at an epoch boundary): from the genesis header
// and set alone it checks every later header by its certificate, skipping inside epochs, and it
// refuses tampered certificates, unknown or wrong sets, and skips across a boundary.
import { expect, test } from "vitest";
import { decodeCertificate } from "../../shared/consensus-messages.ts";
import { decodeHeader } from "../../gateway/chain/block.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { LightClient, LightClientError } from "../../gateway/consensus/light-client.ts";
import { runStakedChain } from "./sim/staked-chain.ts";
import { errorCode } from "../support/error-code.ts";

const code = (fn: () => void): string | undefined => errorCode(LightClientError, fn);

test("light client: genesis set + certificates verify every later header; forgeries fail", () => {
  const n = 4;
  const checked = runStakedChain({ chainId: "light-test", seed: 7, n, epochBlocks: 4 }, (node, ids) => {
    const store = node.chain!.store;
    const tip = store.tip()!.height;
    const header = (h: number) => decodeHeader(store.block(h)!.header);
    const cert = (h: number) => decodeCertificate(store.block(h)!.certificate!);
    const boundaries = [...Array(tip).keys()].map((i) => i + 1).filter((h) => Buffer.compare(header(h).validatorSetHash, header(h).nextValidatorSetHash) !== 0);
    expect(boundaries.length).toBeGreaterThan(1);

    // Every header, in order.
    const full = new LightClient(header(0), node.sets.get(0)!);
    for (let h = 1; h <= tip; h++) full.verify(header(h), cert(h), node.sets.get(h - 1));
    expect(full.height).toBe(tip);

    // Epoch to epoch: only each epoch's last header, its successor, and the tip.
    const skip = new LightClient(header(0), node.sets.get(0)!);
    let verified = 0;
    for (const b of boundaries) {
      if (b > skip.height) (skip.verify(header(b), cert(b)), verified++);
      if (b + 1 <= tip) (skip.verify(header(b + 1), cert(b + 1), node.sets.get(b)), verified++);
    }
    if (tip > skip.height) skip.verify(header(tip), cert(tip));
    expect(verified).toBeLessThan(tip);

    // Forgeries.
    const fresh = () => new LightClient(header(0), node.sets.get(0)!);
    const c1 = cert(1);
    const badSig = { ...c1, votes: c1.votes.map(([id, s], i) => [id, i === 0 ? s.map((x, j) => (j === 0 ? x ^ 1 : x)) : s] as [Uint8Array, Uint8Array]) };
    expect(code(() => fresh().verify(header(1), badSig))).toBe("CERT_SIGNATURE");
    expect(code(() => fresh().verify(header(1), cert(2)))).toBe("CERT_HEIGHT");
    expect(code(() => fresh().verify(header(1), { ...c1, votes: c1.votes.slice(0, 2) }))).toBe("CERT_QUORUM");
    expect(code(() => fresh().verify({ ...header(1), stateRoot: new Uint8Array(32) }, c1))).toBe("CERT_HASH");
    const after = boundaries[0] + 1;
    const walker = fresh();
    walker.verify(header(boundaries[0]), cert(boundaries[0]));
    expect(code(() => walker.verify(header(after), cert(after)))).toBe("LIGHT_SET_UNKNOWN");
    expect(code(() => walker.verify(header(after), cert(after), node.sets.get(0)))).toBe("LIGHT_SET_MISMATCH");
    expect(code(() => fresh().verify(header(after + 1), cert(after + 1)))).toBe("LIGHT_SET_UNKNOWN");

    // A state proof against the header the client trusts.
    const proof = node.chain!.prove(stateKey.account(ids[n].id));
    expect(proof.height).toBe(tip);
    expect(verifyStateProof(full.header, stateKey.account(ids[n].id), proof.value, proof.proof)).toBe(true);
  });
  expect(checked).toBe(true);
});
