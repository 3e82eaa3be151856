// Provenance for history (issue 9 item 6): on a network past five epochs (epochBlocks = 3), a reading
// finalized in epoch 0 still verifies. The gateway checks its certificate with the set of epoch 0,
// which the chain keeps (state `validators/epoch/0`), and serves the walk of validator-set
// hand-overs; this test then trusts nothing but the genesis file and checks the reading with the
// light-client verifier: genesis → each epoch's last header → the head → the reading's block, and
// the state link against the head it reached. Tampered sets and certificates in the walk fail.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { leafHash, verifyInclusion } from "../../shared/merkle.ts";
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { headerHash } from "../../gateway/chain/block.ts";
import { genesisBlock } from "../../gateway/chain/genesis.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
import { decodeCertifiedHeader, decodeEpochTransition, LightClient, LightClientError, walkEpochs, type EpochTransition } from "../../gateway/consensus/light-client.ts";
import { client } from "./http.ts";
import { startTestNet, type TestNet } from "./net.ts";
import { errorCode } from "../support/error-code.ts";

const epochBlocks = 3;
let net: TestNet;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  net = await startTestNet({ boards: 2, params: { epochBlocks } });
  api = client(net.api);
  await net.send([19.5, 19.75]);
  net.drain();
  expect(net.chain.head().height).toBeLessThanOrEqual(epochBlocks); // the readings are in epoch 0
  while (net.chain.head().height < 6 * epochBlocks + 1) net.producer.produce();
}, 60_000);
afterAll(() => net?.close());

const bytes = (s: string) => fromHex(s);
type Wire = { header: string; certificate: string; nextSet: string };
const decodeAll = (ts: Wire[]): EpochTransition[] => ts.map((t) => decodeEpochTransition({ header: bytes(t.header), certificate: bytes(t.certificate), nextSet: bytes(t.nextSet) }));
const code = (fn: () => void): string | undefined => errorCode(LightClientError, fn);
/** The light client as a user builds it: from the network's genesis file, nothing from the gateway. */
const fromGenesis = () => {
  const g = genesisBlock(net.genesis);
  return new LightClient(g.header, g.validators);
};

describe("provenance past five epochs", () => {
  it("a reading from epoch 0 verifies through the API: certificate checked with epoch 0's set, walk served and checked", async () => {
    const b = net.boards[0];
    const p = (await api.get(`/v1/devices/${b.deviceIdHex}/readings/0`)).json;
    expect(p.reading.height).toBeLessThanOrEqual(epochBlocks);
    expect(p.state.atHeight).toBeGreaterThan(5 * epochBlocks);
    expect(p.certificate).toMatchObject({ valid: true, quorum: 1, setSize: 1 });
    expect(p.certificate.signers).toEqual([{ validatorId: toHex(net.identity.id), valid: true, inSet: true }]);
    const e = p.epochs;
    expect(e).toMatchObject({ epochBlocks, blockEpoch: 0, complete: true, next: null, valid: true, problem: null });
    expect(e.headEpoch).toBeGreaterThanOrEqual(5);
    expect(e.transitions.map((t: { epoch: number; height: number }) => [t.epoch, t.height])).toEqual(Array.from({ length: e.headEpoch }, (_, k) => [k, (k + 1) * epochBlocks]));
    expect(p.verified).toBe(true);
    // Every epoch's set is kept under the state root, not only the last two.
    for (let k = 0; k < e.headEpoch; k++) {
      const proof = net.chain.prove(stateKey.epochValidators(k));
      expect(proof.value).toBeDefined();
      expect(verifyStateProof(net.chain.head().header, stateKey.epochValidators(k), proof.value, proof.proof)).toBe(true);
      expect((decode(proof.value!) as CborValue[])[0]).toBe(k);
    }
  });

  it("the light-client verifier checks the same reading from the genesis file alone", async () => {
    const b = net.boards[1];
    const p = (await api.get(`/v1/devices/${b.deviceIdHex}/readings/1`)).json;
    const e = p.epochs;
    expect(e.genesisHash).toBe(toHex(headerHash(genesisBlock(net.genesis).header)));
    const lc = fromGenesis();
    walkEpochs(lc, decodeAll(e.transitions));
    expect(lc.setsKnown).toBe(e.headEpoch + 1);
    const head = decodeCertifiedHeader({ header: bytes(e.head.header), certificate: bytes(e.head.certificate) });
    lc.verify(head.header, head.certificate);
    expect(lc.height).toBe(p.state.atHeight);
    // The reading's block, in epoch 0, behind the trusted head: checked with the genesis set.
    const block = decodeCertifiedHeader({ header: bytes(e.block.header), certificate: bytes(e.block.certificate) });
    expect(toHex(lc.checkCertified(block.header, block.certificate))).toBe(p.block.header.hash);
    // Its transaction is under that header's txRoot; the device record under the trusted head's state root.
    expect(verifyInclusion(fromHex(p.block.txLeaf), p.block.txIndex, p.block.txCount, p.block.txMerklePath.map(fromHex), block.header.txRoot)).toBe(true);
    const st = p.state;
    const smt = { siblings: st.device.siblings.map(fromHex), terminal: st.device.terminal && { keyHash: fromHex(st.device.terminal.keyHash), valueHash: fromHex(st.device.terminal.valueHash) } };
    expect(verifyStateProof(lc.header, st.device.key, fromHex(st.device.value), smt)).toBe(true);
    const rec = st.log.record;
    const leaf = leafHash(encode([rec.sequence, fromHex(rec.digest), rec.height, fromHex(rec.gatewayId), rec.receivedAtMs]));
    expect(verifyInclusion(leaf, st.log.index, st.log.size, st.log.auditPath.map(fromHex), fromHex(st.log.root))).toBe(true);
  });

  it("/v1/epochs pages the same transitions", async () => {
    const p = (await api.get(`/v1/devices/${net.boards[0].deviceIdHex}/readings/0`)).json;
    const pages: Wire[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const r = await api.get(`/v1/epochs?from=${from}&limit=2`);
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(2);
      pages.push(...r.json.items);
      from = r.json.next;
    }
    expect(pages).toEqual(p.epochs.transitions);
    const lc = fromGenesis();
    walkEpochs(lc, decodeAll(pages));
    expect(lc.height).toBe(p.epochs.headEpoch * epochBlocks);
  });

  it("a tampered set, certificate or walk fails verification", async () => {
    const p = (await api.get(`/v1/devices/${net.boards[0].deviceIdHex}/readings/0`)).json;
    const ts = decodeAll(p.epochs.transitions);
    // A set with another member key at epoch 2: its hash is not what header 6 announced.
    const forgedKey = { ...ts[2], nextSet: { ...ts[2].nextSet, validators: ts[2].nextSet.validators.map((v) => ({ ...v, publicKey: net.users[0].publicKey })) } };
    expect(code(() => walkEpochs(fromGenesis(), [...ts.slice(0, 2), forgedKey, ...ts.slice(3)]))).toBe("LIGHT_SET_MISMATCH");
    // The same members relabelled with another epoch: the set's hash covers its epoch.
    const relabelled = { ...ts[3], nextSet: ts[1].nextSet };
    expect(code(() => walkEpochs(fromGenesis(), [...ts.slice(0, 3), relabelled, ...ts.slice(4)]))).toBe("LIGHT_SET_MISMATCH");
    // A certificate with one bit of its signature flipped; a certificate of another block.
    const c = ts[1].certificate;
    const badSig = { ...ts[1], certificate: { ...c, votes: c.votes.map(([id, s]) => [id, s.map((x, j) => (j === 0 ? x ^ 1 : x))] as [Uint8Array, Uint8Array]) } };
    expect(code(() => walkEpochs(fromGenesis(), [ts[0], badSig, ...ts.slice(2)]))).toBe("CERT_SIGNATURE");
    expect(code(() => walkEpochs(fromGenesis(), [ts[0], { ...ts[1], certificate: ts[2].certificate }, ...ts.slice(2)]))).toBe("CERT_HEIGHT");
    // The wire bytes tampered: one byte of the set's CBOR.
    const wire = p.epochs.transitions.map((t: Wire) => ({ ...t }));
    const setBytes = fromHex(wire[0].nextSet);
    setBytes[setBytes.length - 1] ^= 1;
    wire[0].nextSet = toHex(setBytes);
    expect(code(() => walkEpochs(fromGenesis(), decodeAll(wire)))).toBe("LIGHT_SET_MISMATCH");
    // A transition left out: the next header is certified by a set the client was not told about.
    expect(code(() => walkEpochs(fromGenesis(), [ts[0], ...ts.slice(2)]))).toBe("LIGHT_SET_UNKNOWN");
    // A header that ends no epoch passed as a transition.
    expect(code(() => fromGenesis().learnNextSet(ts[0].nextSet))).toBe("LIGHT_NOT_EPOCH_END");
    // Without the walk, the reading's epoch-0 block checks but the head does not.
    const head = decodeCertifiedHeader({ header: bytes(p.epochs.head.header), certificate: bytes(p.epochs.head.certificate) });
    expect(code(() => fromGenesis().verify(head.header, head.certificate))).toBe("LIGHT_SET_UNKNOWN");
    // A header of an epoch not walked to is not checkable from history.
    const lc = fromGenesis();
    walkEpochs(lc, ts.slice(0, 2));
    expect(code(() => lc.checkCertified(ts[4].header, ts[4].certificate))).toBe("LIGHT_SET_UNKNOWN");
    expect(() => lc.checkCertified(ts[1].header, ts[1].certificate)).not.toThrow();
  });
});
