// Messages for heights this node has not reached yet (a peer decided before us): held until we get
// there, within futureHeightsMax heights and futureMessagesPerHeightMax messages per height, so a
// peer cannot make us hold more than that whatever it sends.
import type { ConsensusMessage } from "../../shared/consensus-messages.ts";

export class FutureBuffer {
  private readonly byHeight = new Map<number, ConsensusMessage[]>();

  constructor(
    readonly heightsMax: number,
    readonly perHeightMax: number,
  ) {}

  /** Holds `m` if it is within reach of `current`; returns false when dropped. */
  add(m: ConsensusMessage, current: number): boolean {
    if (m.height > current + this.heightsMax) return false;
    let list = this.byHeight.get(m.height);
    if (!list) this.byHeight.set(m.height, (list = []));
    if (list.length >= this.perHeightMax) return false;
    list.push(m);
    return true;
  }

  /** The messages held for `height`, and forgets every height up to it. */
  take(height: number): ConsensusMessage[] {
    const out = this.byHeight.get(height) ?? [];
    for (const k of this.byHeight.keys()) if (k <= height) this.byHeight.delete(k);
    return out;
  }
}
