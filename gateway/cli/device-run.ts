// `mote device run`: a board emulator with the real firmware on a flash directory, signing a
// reading every interval. With --count it stops after that many readings and exits once each is
// answered: 0 when all were acknowledged, 4 when the gateway refused one (a 4.xx), 3 when the
// firmware gave up on an exchange (RFC 7252 §4.2: MAX_RETRANSMIT = 4 retransmissions after
// ACK_TIMEOUT 2-3 s, doubling: 62-93 s) or nothing was answered for answerWaitMs.
import { existsSync, readdirSync, statSync } from "node:fs";
import { Board, type BoardLink } from "../../hardware/emulator/board.ts";
import { RealClock, ScaledClock, type Clock } from "../../hardware/emulator/clock.ts";
import { simulatedValue } from "../../hardware/emulator/fleet.ts";
import { sensorCatalog } from "../../shared/sensor-catalog.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { HostPort } from "./args.ts";
import { CliError, exitCodes, UsageError } from "./errors.ts";

export interface DeviceRunOptions {
  flash: string;
  /** Create the flash directory and a new identity if it has none. */
  create?: boolean;
  gateway: HostPort;
  serial?: string;
  sensor: number;
  intervalS: number;
  count?: number;
  /** The firmware's clock runs this many times faster (tests: RFC 7252 timers in seconds). */
  clockSpeed?: number;
}

/**
 * With --count: how long (firmware time) a signed reading may go unanswered when the firmware did
 * not give up by itself, e.g. a gateway answering 5.03 again and again: one exchange waiting for a
 * separate response (MAX_TRANSMIT_WAIT 93 s), the 30 s back-off, and one more exchange.
 */
const answerWaitMs = 93_000 + 30_000 + 93_000;

/** What a gateway's 4.xx to a reading means (gateway/ingest/errors.ts) and what the owner can do. */
const refusals: Record<string, string> = {
  "4.00": "Bad Request: the gateway could not decode the reading; gateway and firmware disagree on the reading format (update one of them)",
  "4.01": "Unauthorized: the signature does not verify under the key the gateway has for this device; was the flash directory re-created after enrollment? Enroll the new public key",
  "4.03": "Forbidden: the device is not enrolled at this gateway, waits for an operator's approval, or is revoked or quarantined. Enroll it (mote device enroll <public key> --key <owner key>) or approve it (mote gateway devices approve <device id>); see mote device show <device id>",
  "4.09": "Conflict: the sequence number was used before or is older than the gateway's replay window; was the flash directory restored from an old copy?",
  "4.13": "Request Entity Too Large: the reading is larger than the gateway accepts",
  "4.15": "Unsupported Content-Format: the gateway does not take COSE_Sign1 readings on this path",
};

/** "4.3" as the firmware logs it (class.detail, detail unpadded) → "4.03" as RFC 7252 §12.1.2 writes it. */
export function refusalCode(firmwareLog: string): string | undefined {
  const m = /reading refused, code (\d)\.(\d{1,2})/.exec(firmwareLog);
  return m ? `${m[1]}.${m[2].padStart(2, "0")}` : undefined;
}

export function refusalMessage(code: string): string {
  return `${code} ${refusals[code] ?? "the gateway refused the reading; its log says why"}`;
}

/** A missing or empty flash directory would silently become a new device: refuse unless asked. */
function checkFlash(dir: string, create: boolean | undefined): void {
  if (create) return;
  if (!existsSync(dir)) throw new UsageError("NO_FLASH", `flash directory ${dir} does not exist; give the directory of an existing device (mote device keygen --flash <dir> creates one), or add --create to make a new device there`);
  if (!statSync(dir).isDirectory()) throw new UsageError("NO_FLASH", `${dir} is not a directory; --flash takes a board's flash directory`);
  if (!readdirSync(dir).includes("slot-0.bin")) throw new UsageError("NO_FLASH", `flash directory ${dir} holds no device identity (slot-0.bin); add --create to make a new device there`);
}

export async function runDevice(o: DeviceRunOptions): Promise<void> {
  checkFlash(o.flash, o.create);
  const clock: Clock = o.clockSpeed ? new ScaledClock(o.clockSpeed) : new RealClock();
  const target = o.serial ?? `${o.gateway.host}:${o.gateway.port}`;
  let lastRefusal: string | undefined;
  const link: BoardLink = o.serial ? { kind: "serial", path: o.serial } : { kind: "udp", host: o.gateway.host, port: o.gateway.port };
  const board = await Board.boot({
    dataDir: o.flash,
    link,
    clock,
    log: (level, m) => {
      lastRefusal = refusalCode(m) ?? lastRefusal;
      if (level >= 2) console.error(`firmware: ${m}`);
    },
  });
  const unit = sensorCatalog[o.sensor];
  console.log(`device ${board.deviceIdHex} (public key ${toHex(board.publicKey)}) sending ${unit.name} in ${unit.unit} to ${target}${o.count ? `, ${o.count} reading(s)` : ""}`);
  const counters = () => ({ acked: board.stat("readingsAcked"), refused: board.stat("readingsRejected"), gaveUp: board.stat("exchangesGaveUp") });
  const before = counters();
  let signed = 0;
  let skipped = 0;
  let answered = 0;
  let gaveUp = 0;
  let progressMs = clock.nowMs();
  let lastLine = "";
  const report = () => {
    const c = counters();
    const line = `signed ${signed}, acknowledged ${c.acked - before.acked}, refused ${c.refused - before.refused}${skipped ? `, skipped (outbox full) ${skipped}` : ""}, next sequence ${board.stat("sequenceNext")}`;
    if (line !== lastLine) console.log(line);
    lastLine = line;
  };
  const take = () => {
    if (o.count !== undefined && signed >= o.count) return;
    try {
      board.reading(o.sensor, simulatedValue(o.sensor, Date.now(), 0));
      signed++;
      progressMs = clock.nowMs();
    } catch (e) {
      // A full outbox means the gateway is not answering: skip this sample, as a real node would.
      if ((e as { code?: string }).code !== "E_BUSY") throw e;
      skipped++;
    }
  };
  /** "done" when --count readings are all answered; throws when they cannot be. */
  const check = (): "done" | "running" => {
    const c = counters();
    const nowAnswered = c.acked - before.acked + c.refused - before.refused;
    if (nowAnswered !== answered) progressMs = clock.nowMs();
    answered = nowAnswered;
    const newlyGaveUp = c.gaveUp - before.gaveUp - gaveUp;
    gaveUp += newlyGaveUp;
    if (o.count === undefined) {
      if (newlyGaveUp > 0) console.error(`no acknowledgment from ${target} after 5 transmissions; the firmware keeps the readings and retries in 30 s. Is a gateway listening there?`);
      return "running";
    }
    if (signed >= o.count && answered >= signed) return "done";
    if (newlyGaveUp > 0) throw unacknowledged(target, signed - answered, "after 5 transmissions (CoAP MAX_RETRANSMIT = 4, about 62-93 s)");
    if (clock.nowMs() - progressMs > answerWaitMs) throw unacknowledged(target, signed - answered, `within ${answerWaitMs / 1000} s (the gateway answered 5.xx, or nothing)`);
    return "running";
  };

  const intervalMs = o.intervalS * 1000;
  const timers: NodeJS.Timeout[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const guarded = (fn: () => void) => () => {
        try {
          fn();
        } catch (e) {
          reject(e);
        }
      };
      process.once("SIGINT", () => resolve());
      timers.push(setInterval(guarded(take), intervalMs));
      timers.push(setInterval(guarded(() => (report(), check() === "done" && resolve())), Math.min(250, intervalMs)));
      guarded(take)();
    });
  } finally {
    for (const t of timers) clearInterval(t);
    report();
    await board.close();
  }
  const refused = board.stat("readingsRejected") - before.refused;
  if (refused > 0) throw new CliError("READING_REFUSED", `${target} refused ${refused} of ${signed} reading(s) from device ${board.deviceIdHex}: ${refusalMessage(lastRefusal ?? "4.xx")}`, exitCodes.refused);
}

function unacknowledged(target: string, unanswered: number, why: string): CliError {
  return new CliError("NOT_ACKNOWLEDGED", `${unanswered} reading(s) not acknowledged by ${target} ${why}; is a gateway listening there (mote gateway start, or npm start's CoAP ports)? The readings stay in the device's outbox`, exitCodes.unacknowledged);
}
