// Virtual time: a priority queue of events ordered by (time, insertion order). Ties break by
// insertion, so a run is a pure function of its seed; nothing here reads a real clock.
export class EventQueue {
  private heap: { atMs: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  nowMs = 0;
  processed = 0;

  at(atMs: number, fn: () => void): void {
    const e = { atMs: Math.max(atMs, this.nowMs), seq: this.seq++, fn };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** Runs events up to `untilMs` or until `stop()` is true; returns false if the queue ran dry. */
  run(untilMs: number, stop: () => boolean = () => false, eventsMax = Infinity): boolean {
    while (this.heap.length > 0) {
      if (this.heap[0].atMs > untilMs) {
        this.nowMs = untilMs;
        return true;
      }
      const e = this.pop();
      this.nowMs = e.atMs;
      e.fn();
      if (++this.processed > eventsMax) throw new Error(`more than ${eventsMax} events: a message storm?`);
      if (stop()) return true;
    }
    this.nowMs = untilMs;
    return false;
  }

  private pop(): { atMs: number; seq: number; fn: () => void } {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

const less = (a: { atMs: number; seq: number }, b: { atMs: number; seq: number }) => a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
