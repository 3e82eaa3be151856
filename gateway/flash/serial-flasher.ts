// Flashing a board over its serial line (docs/firmware-update.md, device/ABI.md "Updates"): this
// tool is the CoAP client, the running firmware the server. PUT /m hands over the signed manifest
// and learns how many bytes of that image the board already holds (a cut cable resumes there);
// PUT /f pushes the image with Block1 (RFC 7959); the last block makes the board's boot loader
// verify and install it and restart into it on trial; GET /v reads back what runs.
import { randomInt } from "node:crypto";
import { SerialPort } from "serialport";
import { decode } from "../../shared/cbor.ts";
import { MoteError } from "../../shared/errors.ts";
import { firmwareFailureName } from "../../shared/firmware-manifest.ts";
import { codeString, encodeMessage, METHOD_GET, METHOD_PUT, option, parseMessage, TYPE_ACK, TYPE_CON, TYPE_RST, uintValue, type CoapMessage } from "../coap/message.ts";
import { SlipDecoder, slipEncode } from "../coap/slip.ts";

export class FlashError extends MoteError {}

/** What `GET /v` (and the answers to PUT /m and the last block) report. */
export interface BoardFirmwareStatus {
  version: number;
  onTrial: boolean;
  bytesReceived: number;
  failedVersion: number;
  failureReason: string | null;
}

export interface FlashProgress {
  sent: number;
  total: number;
  /** Bytes the board already held when this run started (a resumed transfer). */
  resumedAt: number;
}

export interface FlashOptions {
  port: string;
  baudRate?: number;
  image: Uint8Array;
  manifest: Uint8Array;
  onProgress?: (p: FlashProgress) => void;
  /** RFC 7252 §4.8 ACK_TIMEOUT; retransmitted MAX_RETRANSMIT = 4 times with doubling. */
  ackTimeoutMs?: number;
  /** Stops the transfer (the port is closed; running the same flash again resumes). */
  signal?: AbortSignal;
}

/** Largest block the firmware takes (SZX 6); smaller ones resume an image pulled in 512-byte blocks. */
const SZX_MAX = 6;
const MAX_RETRANSMIT = 4;
const FRAME_BYTES_MAX = 1280;

/** One CoAP client over a SLIP-framed serial line: one confirmable request at a time. */
export class SerialCoapClient {
  private readonly decoder: SlipDecoder;
  private waiting: { messageId: number; resolve: (m: CoapMessage) => void } | null = null;
  private messageId = randomInt(0x10000);

  private constructor(
    private readonly port: SerialPort,
    private readonly ackTimeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.decoder = new SlipDecoder(FRAME_BYTES_MAX, (frame) => this.onFrame(frame));
    port.on("data", (chunk: Buffer) => this.decoder.push(chunk));
  }

  static async open(path: string, baudRate = 115_200, ackTimeoutMs = 2_000, signal?: AbortSignal): Promise<SerialCoapClient> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new FlashError("FLASH_PORT", `cannot open ${path}: ${err.message}; check the cable and that no gateway holds the port`)) : resolve())),
    );
    port.on("error", () => {});
    return new SerialCoapClient(port, ackTimeoutMs, signal);
  }

  private onFrame(frame: Buffer): void {
    let m: CoapMessage;
    try {
      m = parseMessage(frame);
    } catch {
      return; // line noise, or the board's own traffic
    }
    if ((m.type === TYPE_ACK || m.type === TYPE_RST) && this.waiting?.messageId === m.messageId) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve(m);
    }
  }

  /** A CON request with retransmission (§4.2); the piggybacked answer, or FLASH_NO_ANSWER. */
  async request(code: number, path: string, options: { number: number; value: Buffer }[] = [], payload = Buffer.alloc(0)): Promise<CoapMessage> {
    this.messageId = (this.messageId + 1) & 0xffff;
    const messageId = this.messageId;
    const token = Buffer.from([randomInt(256), randomInt(256)]);
    const frame = slipEncode(encodeMessage({
      type: TYPE_CON, code, messageId, token, payload,
      options: [{ number: option.uriPath, value: Buffer.from(path) }, ...options],
    }));
    const answer = new Promise<CoapMessage>((resolve) => (this.waiting = { messageId, resolve }));
    let timeout = this.ackTimeoutMs;
    for (let attempt = 0; attempt <= MAX_RETRANSMIT; attempt++, timeout *= 2) {
      this.checkAborted();
      this.port.write(frame);
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const m = await Promise.race([
        answer,
        new Promise<null>((r) => {
          timer = setTimeout(() => r(null), timeout);
          onAbort = () => r(null);
          this.signal?.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
      clearTimeout(timer);
      this.signal?.removeEventListener("abort", onAbort!);
      this.checkAborted();
      if (m) {
        if (m.type === TYPE_RST) throw new FlashError("FLASH_RESET", `the board reset the ${codeString(code)} /${path} exchange: it does not run Moteledger firmware with ABI v2`);
        if (m.token.length !== 0 && !m.token.equals(token)) continue;
        return m;
      }
    }
    this.waiting = null;
    throw new FlashError("FLASH_NO_ANSWER", `the board did not answer ${codeString(code)} /${path} (${MAX_RETRANSMIT} retransmissions): is the cable connected and the board running? Run the same command again to resume`);
  }

  private checkAborted(): void {
    if (this.signal?.aborted) {
      this.waiting = null;
      throw new FlashError("FLASH_ABORTED", "the transfer was stopped; run the same flash again to resume where it stopped");
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

export function parseStatus(payload: Buffer): BoardFirmwareStatus {
  const v = decode(new Uint8Array(payload));
  if (!Array.isArray(v) || v.length !== 5 || !v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0)) {
    throw new FlashError("FLASH_STATUS", "the board's status is not [version, trial, received, failed version, reason]: it does not run Moteledger firmware with ABI v2");
  }
  const [version, trial, bytesReceived, failedVersion, reason] = v as number[];
  return { version, onTrial: trial === 1, bytesReceived, failedVersion, failureReason: reason === 0 ? null : firmwareFailureName(reason) };
}

function expectStatus(m: CoapMessage, what: string, ok: string[]): BoardFirmwareStatus {
  const code = codeString(m.code);
  if (!ok.includes(code)) {
    const status = m.payload.length > 0 ? safeStatus(m.payload) : null;
    const why = status?.failureReason ? `the boot loader refused the image: ${status.failureReason} (v${status.failedVersion})` : `the board answered ${code}`;
    throw new FlashError(status?.failureReason ? `FLASH_${status.failureReason}` : "FLASH_REFUSED", `${what}: ${why}`);
  }
  return parseStatus(m.payload);
}

function safeStatus(payload: Buffer): BoardFirmwareStatus | null {
  try {
    return parseStatus(payload);
  } catch {
    return null;
  }
}

/** The firmware's status (GET /v). */
export async function readStatus(client: SerialCoapClient): Promise<BoardFirmwareStatus> {
  return expectStatus(await client.request(METHOD_GET, "v"), "reading the board's firmware status", ["2.05"]);
}

/** The largest Block1 size (as SZX) that `offset` is a whole number of blocks of. */
function blockSzxFor(offset: number): number {
  let szx = SZX_MAX;
  while (szx > 0 && offset % (16 << szx) !== 0) szx--;
  return szx;
}

/**
 * Pushes image + manifest; resolves with what the board runs after restarting into the new image
 * (on trial: it confirms itself once a gateway acknowledges one of its readings).
 */
export async function flashOverSerial(opts: FlashOptions): Promise<BoardFirmwareStatus> {
  const client = await SerialCoapClient.open(opts.port, opts.baudRate, opts.ackTimeoutMs, opts.signal);
  try {
    const start = expectStatus(await client.request(METHOD_PUT, "m", [{ number: option.contentFormat, value: uintValue(18) }], Buffer.from(opts.manifest)), "handing over the manifest", ["2.04"]);
    let offset = Math.min(start.bytesReceived, opts.image.length);
    const resumedAt = offset;
    const szx = blockSzxFor(offset);
    const size = 16 << szx;
    opts.onProgress?.({ sent: offset, total: opts.image.length, resumedAt });
    for (;;) {
      const chunk = opts.image.subarray(offset, offset + size);
      const more = offset + chunk.length < opts.image.length;
      const block = ((offset / size) << 4) | (more ? 8 : 0) | szx;
      const answer = await client.request(METHOD_PUT, "f", [{ number: option.block1, value: uintValue(block) }], Buffer.from(chunk));
      const code = codeString(answer.code);
      if (code === "4.08") {
        // The board holds another amount than we thought (a repeat got lost): ask, and go on from there.
        const now = await readStatus(client);
        if (now.bytesReceived % size !== 0 || now.bytesReceived > opts.image.length) {
          throw new FlashError("FLASH_OUT_OF_STEP", `the board holds ${now.bytesReceived} bytes, not a whole number of ${size}-byte blocks: run the command again to resume`);
        }
        offset = now.bytesReceived;
        continue;
      }
      if (more) {
        if (code !== "2.31") expectStatus(answer, `block at byte ${offset}`, ["2.31"]);
        offset += chunk.length;
        opts.onProgress?.({ sent: offset, total: opts.image.length, resumedAt });
        continue;
      }
      expectStatus(answer, "installing the image", ["2.04"]);
      opts.onProgress?.({ sent: opts.image.length, total: opts.image.length, resumedAt });
      break;
    }
    return await readStatus(client);
  } finally {
    await client.close();
  }
}

