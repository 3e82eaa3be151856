// Structured logging for the gateway (pino). Every line about a device carries `deviceId` (hex) and,
// for refusals, the error `code`, so an operator can grep one device's story out of the stream.
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export interface LogOptions {
  level: LevelWithSilent;
  /** A file descriptor or path; default stdout. */
  destination?: number | string;
}

export function createLogger(options: LogOptions, bindings: Record<string, unknown> = {}): Logger {
  const dest = pino.destination({ dest: options.destination ?? 1, sync: true });
  return pino({ level: options.level, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

export const silentLogger = (): Logger => pino({ level: "silent" });

/**
 * Caps lines per key and interval: a flood of forged readings must not become a flood of log
 * lines. Suppressed lines are counted and reported with the next line that gets through.
 */
export class LogThrottle {
  private readonly windows = new Map<string, { startMs: number; lines: number; suppressed: number }>();

  constructor(
    readonly linesPerIntervalMax = 20,
    readonly intervalMs = 10_000,
    readonly keysMax = 10_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Returns undefined to drop the line, or the number of lines dropped since the last one. */
  admit(key: string): number | undefined {
    const now = this.nowMs();
    let w = this.windows.get(key);
    if (!w || now - w.startMs >= this.intervalMs) {
      if (!w && this.windows.size >= this.keysMax) this.windows.clear();
      const suppressed = w?.suppressed ?? 0;
      w = { startMs: now, lines: 0, suppressed: 0 };
      this.windows.set(key, w);
      w.lines++;
      return suppressed;
    }
    if (w.lines >= this.linesPerIntervalMax) {
      w.suppressed++;
      return undefined;
    }
    w.lines++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return suppressed;
  }
}
