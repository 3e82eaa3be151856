// A serial port that looks like a dgram socket to the `coap` server: each SLIP frame (RFC 1055,
// slip.ts) in is a 'message' event, each `send` goes out as one frame. A serial line has one peer,
// so the address is the port's path and the port number 0. If the port closes under us (a USB
// adapter unplugged), it is reopened with a capped back-off; frames meanwhile are dropped, as a
// radio would drop them, and the device's CoAP retransmission covers the gap. A hang-up is not
// always reported on the open descriptor (a pty whose other end went away often is not), so a
// watchdog also checks that the path still names the device that was opened.
import { EventEmitter } from "node:events";
import { stat, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { SerialPort } from "serialport";
import type { Logger } from "pino";
import { SlipDecoder, slipEncode } from "./slip.ts";

export interface SerialSocketOptions {
  path: string;
  baudRate: number;
  /** Longest SLIP frame accepted (longer ones are discarded and counted). */
  frameBytesMax: number;
  /** Bytes waiting to be written beyond which new frames are dropped. */
  writeQueueBytesMax: number;
  reopenDelayMsMax: number;
  /** How often the watchdog checks that the path still names the opened device. */
  watchdogMs?: number;
}

export interface SerialStats {
  framesIn: number;
  framesOut: number;
  framesDropped: number;
  oversize: number;
  badEscapes: number;
  reopens: number;
}

export class SerialSocket extends EventEmitter {
  private port: SerialPort | undefined;
  private decoder: SlipDecoder;
  private closed = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private reopenDelayMs = 100;
  /** Device number the path resolved to when the port was opened. */
  private openedRdev = -1;
  private readonly watchdog: NodeJS.Timeout;
  private readonly counts = { framesOut: 0, framesDropped: 0, reopens: 0 };

  private constructor(
    readonly options: SerialSocketOptions,
    private readonly log: Logger,
  ) {
    super();
    this.decoder = new SlipDecoder(options.frameBytesMax, (frame) => this.emit("message", frame, this.address()));
    this.watchdog = setInterval(() => this.checkLine(), options.watchdogMs ?? 1_000);
    this.watchdog.unref();
  }

  private checkLine(): void {
    const port = this.port;
    if (!port || this.closed) return;
    stat(this.options.path, (err, st) => {
      if (port !== this.port || (!err && st.rdev === this.openedRdev)) return;
      // The line is gone (or replaced): drop the stale descriptor and go through the reopen path.
      port.removeAllListeners("close");
      port.close(() => {});
      this.onClosed();
    });
  }

  /** Opens the port; rejects if it cannot be opened at start (a wrong path is a config error). */
  static async open(options: SerialSocketOptions, log: Logger): Promise<SerialSocket> {
    const s = new SerialSocket(options, log);
    await s.openPort();
    return s;
  }

  private openPort(): Promise<void> {
    const port = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) return reject(err);
        this.port = port;
        this.reopenDelayMs = 100;
        try {
          this.openedRdev = statSync(this.options.path).rdev;
        } catch {
          this.openedRdev = -1; // vanished already: the watchdog reopens it
        }
        port.on("data", (chunk: Buffer) => this.decoder.push(chunk));
        port.on("error", (e: Error) => this.log.warn({ err: e, path: this.options.path, code: "SERIAL_ERROR" }, "serial port error"));
        port.on("close", () => this.onClosed());
        resolve();
      });
    });
  }

  private onClosed(): void {
    this.port = undefined;
    if (this.closed || this.reopenTimer) return;
    this.log.warn({ path: this.options.path, code: "SERIAL_CLOSED" }, "serial port closed; reopening");
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.closed) return;
      this.openPort().then(
        () => {
          this.counts.reopens++;
          this.log.info({ path: this.options.path }, "serial port reopened");
        },
        () => {
          this.reopenDelayMs = Math.min(this.reopenDelayMs * 2, this.options.reopenDelayMsMax);
          this.scheduleReopen();
        },
      );
    }, this.reopenDelayMs);
  }

  /** dgram.Socket#send's signature, as the `coap` server calls it. */
  send(msg: Buffer, offset: number, length: number, _port?: number, _address?: string, cb?: (err: Error | null, bytes?: number) => void): void {
    const port = this.port;
    if (!port || !port.isOpen || port.writableLength > this.options.writeQueueBytesMax) {
      this.counts.framesDropped++;
      cb?.(null, 0);
      return;
    }
    const frame = slipEncode(msg.subarray(offset, offset + length));
    this.counts.framesOut++;
    port.write(frame, (err) => cb?.(err ?? null, length));
  }

  address(): AddressInfo {
    return { address: this.options.path, family: "serial", port: 0 };
  }

  get stats(): SerialStats {
    return { framesIn: this.decoder.stats.frames, oversize: this.decoder.stats.oversize, badEscapes: this.decoder.stats.badEscapes, ...this.counts };
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const port = this.port;
    return new Promise((resolve) => (port?.isOpen ? port.close(() => resolve()) : resolve()));
  }
}
