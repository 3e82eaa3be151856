// A fleet of board emulators taking plausible measurements on a schedule: what `npm start` and
// soak runs use as "the devices". Values follow a daily cycle plus noise so charts look like
// sensors, not random numbers; each board sends one reading per interval, staggered so the
// fleet's traffic is spread over the interval rather than arriving in bursts.
import { Board } from "./board.ts";

export interface FleetMember {
  board: Board;
  /** Catalog sensor this board measures (device/ABI.md). */
  sensor: number;
  label: string;
}

export interface FleetStats {
  signed: number;
  acked: number;
  rejected: number;
  busy: number;
  faults: number;
}

/** A plausible value for catalog sensor `sensor` at time `t` (ms), for device `k`. */
export function simulatedValue(sensor: number, t: number, k: number): number {
  const day = Math.sin((2 * Math.PI * (t / 86_400_000 + k / 7)) % (2 * Math.PI));
  const minute = Math.sin(t / 60_000 + k);
  const noise = () => (Math.random() - 0.5) * 2;
  // Quantised like a sensor's ADC, and printed without binary-fraction noise (22.45, not 22.4500…03).
  const round = (v: number, step: number) => Number((Math.round(v / step) * step).toFixed(Math.max(0, -Math.floor(Math.log10(step)))));
  switch (sensor) {
    case 0: return round(19 + 4 * day + 0.8 * minute + 0.2 * noise(), 0.05); // °C
    case 1: return round(45 - 10 * day + 2 * minute + noise(), 0.1); // %RH
    case 2: return round(101_325 + 300 * day + 20 * noise(), 1); // Pa
    case 3: return round(3.7 - ((t / 3_600_000 + k) % 24) * 0.01, 0.001); // V, slowly draining
    case 4: return round(Math.max(0, 400 + 350 * day + 40 * noise()), 1); // lx
    default: return round(420 + 60 * Math.max(0, minute) + 5 * noise(), 1); // ppm
  }
}

export class Fleet {
  readonly stats: FleetStats = { signed: 0, acked: 0, rejected: 0, busy: 0, faults: 0 };
  private timers: NodeJS.Timeout[] = [];

  constructor(readonly members: FleetMember[]) {
    for (const m of members) m.board.on("fault", () => this.stats.faults++);
  }

  /** Every board takes a reading each `intervalMs`, boards staggered across the interval. */
  start(intervalMs: number): void {
    this.members.forEach((m, k) => {
      const take = () => this.take(m, k);
      const first = setTimeout(() => {
        take();
        const every = setInterval(take, intervalMs);
        every.unref();
        this.timers.push(every);
      }, Math.round((intervalMs * k) / this.members.length));
      first.unref();
      this.timers.push(first);
    });
  }

  private take(m: FleetMember, k: number): void {
    try {
      m.board.reading(m.sensor, simulatedValue(m.sensor, Date.now(), k));
      this.stats.signed++;
    } catch (e) {
      // A full outbox means the gateway is not answering: skip this sample, as a real node would.
      if ((e as { code?: string }).code === "E_BUSY") this.stats.busy++;
      else throw e;
    }
  }

  totals(): FleetStats {
    let acked = 0;
    let rejected = 0;
    for (const m of this.members) {
      acked += m.board.total("readingsAcked");
      rejected += m.board.total("readingsRejected");
    }
    return { ...this.stats, acked, rejected };
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await Promise.all(this.members.map((m) => m.board.close()));
  }
}
