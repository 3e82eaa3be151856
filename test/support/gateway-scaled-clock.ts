// A real clock running `speed` times faster, for boards in gateway end-to-end tests: the firmware's
// RFC 7252 timers (ACK_TIMEOUT 2 s, MAX_TRANSMIT_WAIT 93 s, its 30 s retry back-off) run as
// written, on real sockets, but a lossy run finishes in seconds. Implements the emulator's Clock.
import { performance } from "node:perf_hooks";
import type { Clock } from "../../hardware/emulator/clock.ts";

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
