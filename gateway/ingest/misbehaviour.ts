// Misbehaviour counted per device and code (bad signatures, replays, floods), kept in memory and
// carried to disk by the next commit: evidence for quarantine later (BRIEF §5, clause 9.3). Bounded:
// beyond `keysMax` distinct (device, code) pairs waiting, the oldest are flushed first.
import { toHex } from "../../shared/ed25519.ts";
import type { MisbehaviourDelta } from "./pending-store.ts";

export class MisbehaviourCounters {
  private pending = new Map<string, MisbehaviourDelta>();

  constructor(readonly keysMax = 100_000) {}

  count(deviceId: Uint8Array, code: string, nowMs: number): void {
    const key = `${toHex(deviceId)}/${code}`;
    const d = this.pending.get(key);
    if (d) {
      d.count++;
      d.lastAtMs = nowMs;
    } else {
      this.pending.set(key, { deviceId, code, count: 1, lastAtMs: nowMs });
    }
  }

  /** True when enough keys wait that the caller should flush now. */
  get full(): boolean {
    return this.pending.size >= this.keysMax;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Hands over what has been counted since the last drain. */
  drain(): MisbehaviourDelta[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }

  /** Puts back deltas whose commit failed, so nothing counted is lost. */
  restore(deltas: MisbehaviourDelta[]): void {
    for (const d of deltas) {
      const key = `${toHex(d.deviceId)}/${d.code}`;
      const cur = this.pending.get(key);
      if (cur) {
        cur.count += d.count;
        cur.lastAtMs = Math.max(cur.lastAtMs, d.lastAtMs);
      } else this.pending.set(key, { ...d });
    }
  }
}
