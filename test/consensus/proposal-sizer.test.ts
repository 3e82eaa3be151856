// Proposal sizing (gateway/consensus/proposal-sizer.ts): slow heights shrink the cap to what would
// have fit the target, binding caps that decided in time grow it, within its bounds.
import { expect, test } from "vitest";
import { ProposalSizer } from "../../gateway/consensus/proposal-sizer.ts";

const options = { targetMs: 500, minBytes: 32_000, maxBytes: 1_000_000 };

function height(s: ProposalSizer, hash: string, txBytes: number, tookMs: number, at = 0): void {
  s.seen(hash, at);
  s.committed(hash, txBytes, at + tookMs);
}

test("starts at a quarter of the maximum; a slow height shrinks it to what would have fit, never below the minimum", () => {
  const s = new ProposalSizer(options);
  expect(s.bytesMax()).toBe(250_000);
  height(s, "a", 250_000, 2_000); // four times the target: a quarter would have fit, with a tenth to spare
  expect(s.bytesMax()).toBe(56_250);
  height(s, "b", 56_250, 60_000);
  expect(s.bytesMax()).toBe(32_000);
});

test("a cap that bound a block decided in time grows by a quarter up to the maximum; an unbound one stays", () => {
  const s = new ProposalSizer(options);
  height(s, "a", 10_000, 100); // a small block: the cap did not bind
  expect(s.bytesMax()).toBe(250_000);
  for (let i = 0; i < 20; i++) height(s, `b${i}`, s.bytesMax(), 200);
  expect(s.bytesMax()).toBe(1_000_000);
});

test("a block committed without being seen deciding (synced) changes nothing, and the first sight of a block counts", () => {
  const s = new ProposalSizer(options);
  s.committed("synced", 250_000, 10_000);
  expect(s.bytesMax()).toBe(250_000);
  s.seen("x", 0);
  s.seen("x", 900); // a later round's look at the same block
  s.committed("x", 250_000, 1_000);
  expect(s.bytesMax()).toBe(112_500); // 1,000 ms from the first sight, not 100
});
