// The simulator's judge. Safety: no two honest nodes finalize different blocks at one height, and
// their state roots agree at every finalized height. Liveness: after the network heals, every
// honest node finalizes new heights within the stated bound. Byzantine nodes are not judged.
import { toHex } from "../../../shared/ed25519.ts";

export class SafetyChecker {
  private readonly finalized = new Map<number, { hash: string; root: string; node: string }>();
  /** Highest height each honest node finalized. */
  readonly heights = new Map<string, number>();
  violation: string | undefined;

  constructor(private readonly honest: ReadonlySet<string>) {}

  decided(node: string, height: number, hash: Uint8Array, stateRoot: Uint8Array): void {
    if (!this.honest.has(node)) return;
    const previous = this.heights.get(node) ?? 0;
    if (height !== previous + 1 && this.violation === undefined) this.violation = `node ${node.slice(0, 8)} finalized height ${height} after ${previous}`;
    this.heights.set(node, Math.max(previous, height));
    const h = toHex(hash);
    const r = toHex(stateRoot);
    const first = this.finalized.get(height);
    if (!first) return void this.finalized.set(height, { hash: h, root: r, node });
    if (this.violation !== undefined) return;
    if (first.hash !== h) this.violation = `height ${height}: node ${first.node.slice(0, 8)} finalized ${first.hash.slice(0, 16)}, node ${node.slice(0, 8)} finalized ${h.slice(0, 16)}`;
    else if (first.root !== r) this.violation = `height ${height}: state roots differ (${first.root.slice(0, 16)} vs ${r.slice(0, 16)})`;
  }

  maxHeight(): number {
    return Math.max(0, ...this.heights.values());
  }

  /** Every node in `nodes` has reached `height`. */
  allReached(nodes: Iterable<string>, height: number): boolean {
    for (const n of nodes) if ((this.heights.get(n) ?? 0) < height) return false;
    return true;
  }
}
