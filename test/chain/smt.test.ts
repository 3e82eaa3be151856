// The sparse Merkle tree against a reference that hashes the key set from scratch, plus proofs:
// random keys prove in and out against the root; any tampering makes verification fail.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { MemoryNodeStore, hashBody, keyBit, leafBody, smtApply, smtRoot, zeroHash, type SmtUpdate } from "../../gateway/chain/smt.ts";
import { decodeSmtProof, encodeSmtProof, smtProve, smtVerify, type SmtProof } from "../../gateway/chain/smt-proof.ts";

const h = (s: string | number): Uint8Array => new Uint8Array(createHash("sha256").update(String(s)).digest());

/** Root of a key set by the definition in smt.ts, with no stored nodes. */
function referenceRoot(entries: [Uint8Array, Uint8Array][], depth = 0): Uint8Array {
  if (entries.length === 0) return zeroHash;
  if (entries.length === 1) return hashBody(leafBody(entries[0][0], entries[0][1]));
  const left = entries.filter(([k]) => keyBit(k, depth) === 0);
  const right = entries.filter(([k]) => keyBit(k, depth) === 1);
  const body = new Uint8Array(65);
  body[0] = 1;
  body.set(referenceRoot(left, depth + 1), 1);
  body.set(referenceRoot(right, depth + 1), 33);
  return hashBody(body);
}

function applyAll(store: MemoryNodeStore, updates: SmtUpdate[]): Uint8Array {
  const { root, writes } = smtApply(store, updates);
  store.apply(writes);
  expect(smtRoot(store)).toEqual(root);
  return root;
}

describe("sparse Merkle tree", () => {
  it("matches the reference root through random inserts, updates and deletes in batches", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.option(fc.integer({ min: 0, max: 5 }))), { maxLength: 20 }), { maxLength: 8 }), (batches) => {
        const store = new MemoryNodeStore();
        const model = new Map<string, [Uint8Array, Uint8Array]>();
        for (const batch of batches) {
          const byKey = new Map<number, number | null>();
          for (const [k, v] of batch) byKey.set(k, v);
          const updates = [...byKey].map(([k, v]) => ({ keyHash: h(k), valueHash: v === null ? null : h(`v${v}`) }));
          for (const u of updates) {
            const id = Buffer.from(u.keyHash).toString("hex");
            if (u.valueHash) model.set(id, [u.keyHash, u.valueHash]);
            else model.delete(id);
          }
          const root = applyAll(store, updates);
          expect(Buffer.from(root).toString("hex")).toBe(Buffer.from(referenceRoot([...model.values()])).toString("hex"));
        }
        // No stale nodes: the store holds exactly what a fresh tree of the same keys holds.
        const fresh = new MemoryNodeStore();
        if (model.size > 0) applyAll(fresh, [...model.values()].map(([keyHash, valueHash]) => ({ keyHash, valueHash })));
        expect([...store.nodes.keys()].sort()).toEqual([...fresh.nodes.keys()].sort());
      }),
      { numRuns: 200 },
    );
  });

  it("gives the same root whatever the order and batching of inserts", () => {
    const keys = Array.from({ length: 300 }, (_, i) => ({ keyHash: h(i), valueHash: h(`value ${i}`) }));
    const a = new MemoryNodeStore();
    applyAll(a, keys);
    const b = new MemoryNodeStore();
    for (let i = keys.length - 1; i >= 0; i -= 7) applyAll(b, keys.slice(Math.max(0, i - 6), i + 1));
    expect(smtRoot(a)).toEqual(smtRoot(b));
    expect([...a.nodes.keys()].sort()).toEqual([...b.nodes.keys()].sort());
  });

  it("proves inclusion and non-inclusion of random keys against the root; tampered proofs fail", () => {
    const store = new MemoryNodeStore();
    const present = Array.from({ length: 500 }, (_, i) => ({ keyHash: h(`k${i}`), valueHash: h(`v${i}`) }));
    const root = applyAll(store, present);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 3 }), fc.nat(), (i, tamper, where) => {
        const isPresent = i < 500;
        const keyHash = h(`k${i}`);
        const valueHash = isPresent ? h(`v${i}`) : null;
        const proof = decodeSmtProof(encodeSmtProof(smtProve(store, keyHash)));
        expect(smtVerify(root, keyHash, valueHash, proof)).toBe(true);
        // The opposite claim never verifies.
        expect(smtVerify(root, keyHash, isPresent ? null : h("other"), proof)).toBe(false);
        if (isPresent) expect(smtVerify(root, keyHash, h("wrong value"), proof)).toBe(false);
        // Tampering: flip a bit in a sibling, drop or add a level, or change the terminal.
        const bad: SmtProof = { siblings: proof.siblings.map((s) => s.slice()), terminal: proof.terminal && { ...proof.terminal } };
        if (tamper === 0 && bad.siblings.length > 0) bad.siblings[where % bad.siblings.length][where % 32] ^= 1 << (where % 8);
        else if (tamper === 1 && bad.siblings.length > 0) bad.siblings.pop();
        else if (tamper === 2) bad.siblings.push(h("extra"));
        else bad.terminal = bad.terminal ? { keyHash: bad.terminal.keyHash, valueHash: h("forged") } : { keyHash: h("forged key"), valueHash: h("forged") };
        expect(smtVerify(root, keyHash, valueHash, bad)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("proves against an empty tree and a single-leaf tree", () => {
    const store = new MemoryNodeStore();
    expect(smtVerify(zeroHash, h(1), null, smtProve(store, h(1)))).toBe(true);
    const root = applyAll(store, [{ keyHash: h(1), valueHash: h(2) }]);
    expect(smtVerify(root, h(1), h(2), smtProve(store, h(1)))).toBe(true);
    expect(smtVerify(root, h(3), null, smtProve(store, h(3)))).toBe(true);
    expect(smtVerify(root, h(3), h(2), smtProve(store, h(3)))).toBe(false);
  });

  it("refuses a node that does not match its parent's hash", () => {
    const store = new MemoryNodeStore();
    applyAll(store, Array.from({ length: 10 }, (_, i) => ({ keyHash: h(i), valueHash: h(i) })));
    const [someId, body] = [...store.nodes].find(([id]) => id.charCodeAt(1) > 0)!;
    const corrupt = body.slice();
    corrupt[64] ^= 1;
    store.nodes.set(someId, corrupt);
    expect(() => smtApply(store, Array.from({ length: 10 }, (_, i) => ({ keyHash: h(i), valueHash: h("x") })))).toThrow(/does not match/);
  });
});
