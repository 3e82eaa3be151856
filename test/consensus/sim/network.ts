// The simulated network between nodes: per-message loss, duplication, delay (and so reordering),
// and partitions that split the nodes into groups until healed. All choices come from the
// schedule's PRNG.
import type { EventQueue } from "./events.ts";
import type { Prng } from "./prng.ts";

export interface LinkFaults {
  lossProbability: number;
  duplicateProbability: number;
  delayMinMs: number;
  delayMaxMs: number;
}

export const goodLinks: LinkFaults = { lossProbability: 0, duplicateProbability: 0, delayMinMs: 1, delayMaxMs: 20 };

export class SimNetwork {
  faults: LinkFaults = goodLinks;
  /** Group of each node while partitioned; nodes talk only within their group. */
  private groups: Map<string, number> | null = null;
  sent = 0;
  delivered = 0;
  dropped = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    private readonly deliver: (from: string, to: string, bytes: Uint8Array) => void,
  ) {}

  partition(groups: string[][]): void {
    this.groups = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.groups!.set(id, i)));
  }

  heal(): void {
    this.groups = null;
  }

  connected(a: string, b: string): boolean {
    return this.groups === null || this.groups.get(a) === this.groups.get(b);
  }

  send(from: string, to: string, bytes: Uint8Array): void {
    this.sent++;
    if (!this.connected(from, to) || this.prng.chance(this.faults.lossProbability)) {
      this.dropped++;
      return;
    }
    const copies = this.prng.chance(this.faults.duplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.prng.int(this.faults.delayMinMs, this.faults.delayMaxMs);
      this.queue.at(this.queue.nowMs + delay, () => {
        // A partition that starts while the message is in flight cuts it too.
        if (!this.connected(from, to)) return void this.dropped++;
        this.delivered++;
        this.deliver(from, to, bytes);
      });
    }
  }
}
