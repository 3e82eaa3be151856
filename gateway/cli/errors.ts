// How `mote` fails: a typed error whose message says what was wrong and what to do, and an exit
// code a script can branch on. Commander's own refusals (unknown option, missing argument, an
// option value our parsers reject) are usage errors too: main.ts maps them to exit 2.
import { MoteError } from "../../shared/errors.ts";

export const exitCodes = {
  ok: 0,
  /** The command could not do its job (gateway unreachable, a file unreadable, …). */
  failed: 1,
  /** The command line itself is wrong: nothing was done. */
  usage: 2,
  /** A device's readings were not acknowledged within CoAP's retransmission limits. */
  unacknowledged: 3,
  /** The gateway answered a device's reading with a 4.xx: resending cannot help. */
  refused: 4,
} as const;

export class CliError extends MoteError {
  constructor(
    code: string,
    message: string,
    readonly exitCode: number = exitCodes.failed,
  ) {
    super(code, message);
  }
}

export class UsageError extends CliError {
  constructor(code: string, message: string) {
    super(code, message, exitCodes.usage);
  }
}
