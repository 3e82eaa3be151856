// Time for the board: the firmware's `now_ms` import and the timer that drives `tick`.
// RealClock is wall-clock monotonic; ScaledClock is a real clock running `speed` times faster (the
// firmware's RFC 7252 timers as written, on real sockets, sooner: end-to-end tests and
// `mote device run --clock-speed`); VirtualClock lets tests step time exactly (retransmission
// schedules of 90+ seconds run in milliseconds and are checked to the millisecond).
import { performance } from "node:perf_hooks";

export interface Clock {
  nowMs(): number;
  setTimer(delayMs: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

export class RealClock implements Clock {
  nowMs(): number {
    return Math.floor(performance.now());
  }
  setTimer(delayMs: number, fn: () => void): unknown {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return t;
  }
  clearTimer(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

export class ScaledClock implements Clock {
  private readonly originMs = performance.now();
  constructor(readonly speed: number) {}

  nowMs(): number {
    return Math.floor((performance.now() - this.originMs) * this.speed);
  }

  setTimer(delayMs: number, fn: () => void): unknown {
    const t = setTimeout(fn, Math.max(0, delayMs / this.speed));
    t.unref();
    return t;
  }

  clearTimer(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

interface VirtualTimer {
  at: number;
  id: number;
  fn: () => void;
}

export class VirtualClock implements Clock {
  private now = 0;
  private nextId = 1;
  private timers: VirtualTimer[] = [];

  constructor(startMs = 1_000) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  setTimer(delayMs: number, fn: () => void): unknown {
    const timer = { at: this.now + Math.max(0, delayMs), id: this.nextId++, fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Runs every timer due up to now + ms, in time order, moving the clock to each one. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.now = next.at;
      next.fn();
    }
    this.now = end;
  }
}
