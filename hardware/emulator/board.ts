// A board emulator: the real firmware.wasm with file-backed flash, node:crypto entropy, a clock
// and one link to a gateway, over UDP (radio) or a serial port speaking SLIP. Tests, benchmarks
// and the simulated fleet of `npm start` use it.
import { createSocket, type Socket } from "node:dgram";
import { EventEmitter } from "node:events";
import { SerialPort } from "serialport";
import { readFileSync } from "node:fs";
import { RealClock, type Clock } from "./clock.ts";
import { SlotStore } from "./slot-store.ts";
import { counters, defaultFirmwarePath, Firmware, LINK_RADIO, LINK_SERIAL, type CounterName } from "./firmware.ts";
import { FirmwareError, FirmwareFault } from "./errors.ts";
import { BootLoader, type BootChoice } from "./boot-loader.ts";
import { MoteError } from "../../shared/errors.ts";
import { toHex } from "../../shared/ed25519.ts";

export type BoardLink =
  | { kind: "udp"; host: string; port: number }
  | { kind: "serial"; path: string; baudRate?: number };

export interface BoardOptions {
  /** Where the board's flash slots live. */
  dataDir: string;
  link: BoardLink;
  wasmPath?: string;
  clock?: Clock;
  /** Firmware log lines; default: discarded. */
  log?: (level: number, message: string) => void;
  /** Replaces node:crypto as the entropy source (tests of entropy failure). */
  entropy?: (out: Uint8Array) => boolean;
  /**
   * Provisions the board for firmware updates (docs/firmware-update.md): the publisher key it
   * trusts, and the factory image's signed manifest. Without it the board runs `wasmPath` as it is
   * and cannot be updated. Once provisioned, the flash's image slots decide what runs.
   */
  updates?: { publisherKey: Uint8Array; manifest?: Uint8Array; trialMs?: number };
}

/** How long a new image may run on trial before it must have confirmed itself. */
export const TRIAL_MS_DEFAULT = 5 * 60_000;

export class BoardError extends MoteError {}

const logLevels = ["debug", "info", "warn", "error"] as const;

/**
 * Events: "sent" (bytes: Uint8Array) for every frame put on the link, "fault" (FirmwareFault)
 * when the firmware trapped (the board then reboots it, as a watchdog would).
 */
export class Board extends EventEmitter {
  readonly deviceId: Uint8Array;
  readonly publicKey: Uint8Array;
  private firmware: Firmware;
  private timer: unknown = undefined;
  private trialTimer: unknown = undefined;
  /** Counters of firmware instances that were replaced (total()). */
  private readonly carried = new Map<CounterName, number>();
  readonly bootLoader: BootLoader | undefined;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly options: BoardOptions,
    readonly clock: Clock,
    private readonly slots: SlotStore,
    private readonly transport: Transport,
  ) {
    super();
    const u = options.updates;
    if (u) {
      this.bootLoader = new BootLoader({
        dir: options.dataDir,
        publisherKey: u.publisherKey,
        factoryImage: readFileSync(options.wasmPath ?? defaultFirmwarePath),
        factoryManifest: u.manifest,
        log: (level, message) => this.options.log?.(level, `${logLevels[level]}: ${message}`),
      });
    }
    this.firmware = this.bootFirmware();
    ({ deviceId: this.deviceId, publicKey: this.publicKey } = this.firmware.identity());
    transport.onData((bytes) => this.onReceive(bytes));
  }

  static async boot(options: BoardOptions): Promise<Board> {
    const transport = options.link.kind === "udp" ? await UdpTransport.open(options.link) : await SerialTransport.open(options.link);
    try {
      return new Board(options, options.clock ?? new RealClock(), new SlotStore(options.dataDir), transport);
    } catch (e) {
      await transport.close();
      throw e;
    }
  }

  get deviceIdHex(): string {
    return toHex(this.deviceId);
  }

  get link(): number {
    return this.options.link.kind === "udp" ? LINK_RADIO : LINK_SERIAL;
  }

  /** The version of the running image (0: a board not provisioned for updates, or a factory image without manifest). */
  get firmwareVersion(): number {
    return this.bootLoader?.runningVersion ?? 0;
  }

  get onTrial(): boolean {
    return this.bootLoader?.onTrial ?? false;
  }

  /**
   * Starts the firmware the boot loader chooses. A new image that cannot start (it does not load,
   * traps or fails in init) ends its trial there, and the confirmed image starts instead.
   */
  private bootFirmware(): Firmware {
    const previous = this.firmware as Firmware | undefined;
    if (previous) {
      for (const name of Object.keys(counters) as CounterName[]) {
        if (name === "sequenceNext") continue;
        try {
          this.carried.set(name, (this.carried.get(name) ?? 0) + previous.stat(name));
        } catch {
          // a trapped instance may not answer: its counts are lost with it
        }
      }
    }
    for (;;) {
      const choice = this.bootLoader?.boot();
      try {
        const fw = this.startFirmware(choice);
        this.afterBoot(fw, choice);
        return fw;
      } catch (e) {
        if (!choice?.onTrial || !(e instanceof FirmwareFault || e instanceof FirmwareError)) throw e;
        this.bootLoader!.trialFailed("TRAP");
      }
    }
  }

  private afterBoot(fw: Firmware, choice: BootChoice | undefined): void {
    // Identity lives in storage slot 0, apart from the images: every image must come up as the same device.
    const id = fw.identity().deviceId;
    if (this.deviceId && toHex(id) !== this.deviceIdHex) {
      throw new BoardError("BOARD_IDENTITY_CHANGED", `device ${this.deviceIdHex} came back as ${toHex(id)} after a restart: storage slot 0 was replaced; re-provision the board`);
    }
    if (this.trialTimer !== undefined) this.clock.clearTimer(this.trialTimer);
    this.trialTimer = undefined;
    if (choice?.onTrial) {
      this.trialTimer = this.clock.setTimer(this.options.updates?.trialMs ?? TRIAL_MS_DEFAULT, () => {
        this.trialTimer = undefined;
        if (this.closed || !this.bootLoader?.onTrial) return;
        this.bootLoader.trialFailed("UNCONFIRMED");
        this.restart();
      });
    }
    this.emit("boot", { version: choice?.version ?? 0, onTrial: choice?.onTrial ?? false });
  }

  /** Restarts the firmware (as a reset would) and runs its timers. */
  private restart(): void {
    this.firmware = this.bootFirmware();
    this.schedule();
  }

  private startFirmware(choice: BootChoice | undefined): Firmware {
    const fw = new Firmware(
      {
        updates: this.bootLoader,
        clock: this.clock,
        slots: this.slots,
        entropy: this.options.entropy,
        log: (level, message) => this.options.log?.(level, message),
        send: (_link, bytes) => {
          if (this.closed) return false;
          this.emit("sent", bytes);
          return this.transport.send(bytes);
        },
      },
      choice?.image ?? this.options.wasmPath,
    );
    fw.init(this.link);
    return fw;
  }

  /** Signs and queues a reading of catalog sensor `sensor`; returns its sequence number. */
  reading(sensor: number, value: number): number {
    const seq = this.guard(() => this.firmware.reading(sensor, value));
    this.schedule();
    return seq;
  }

  /** A counter of the running firmware, since it started (a restart or an update starts it afresh). */
  stat(name: CounterName): number {
    return this.firmware.stat(name);
  }

  /** A counter summed over every firmware start of this board (its restarts and updates included). */
  total(name: CounterName): number {
    return (this.carried.get(name) ?? 0) + this.firmware.stat(name);
  }

  /** Readings signed since boot and not yet answered by the gateway. */
  pending(): number {
    return this.stat("readingsSigned") - this.stat("readingsAcked") - this.stat("readingsRejected");
  }

  /** Resolves when every queued reading has been answered; rejects after timeoutMs. */
  idle(timeoutMs = 30_000): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        if (this.pending() !== 0) return;
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(() => {
        this.waiters.delete(done);
        reject(new BoardError("BOARD_TIMEOUT", `device ${this.deviceIdHex}: ${this.pending()} readings still unanswered after ${timeoutMs} ms; is the gateway reachable?`));
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Runs the firmware's timers now (the board's timer does this by itself). */
  tick(): void {
    this.schedule();
  }

  private onReceive(bytes: Uint8Array): void {
    if (this.closed) return;
    this.guard(() => this.firmware.receive(this.link, bytes), 0);
    this.schedule();
    for (const w of [...this.waiters]) w();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const wait = this.guard(() => this.firmware.tick(), -1);
    if (wait >= 0) {
      this.timer = this.clock.setTimer(wait, () => {
        this.timer = undefined;
        this.schedule();
      });
    }
  }

  /**
   * A trap is a firmware bug: report it and reboot the firmware from flash, as a watchdog would.
   * Called from a host entry (reading) the fault is rethrown; from the radio or a timer, where
   * nobody could catch it, `fallback` is returned instead.
   */
  private guard<T>(fn: () => T, ...fallback: [T?]): T {
    try {
      const result = fn();
      if (this.bootLoader?.restartPending) {
        // fw_install accepted an image during this call: start it now, on trial.
        this.bootLoader.restartPending = false;
        this.restart();
      }
      return result;
    } catch (e) {
      if (!(e instanceof FirmwareFault)) throw e;
      this.emit("fault", e);
      this.options.log?.(3, `${logLevels[3]}: ${e.message}; rebooting`);
      this.bootLoader?.trialFailed("TRAP");
      this.firmware = this.bootFirmware();
      if (fallback.length === 0) throw e;
      return fallback[0] as T;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    if (this.trialTimer !== undefined) this.clock.clearTimer(this.trialTimer);
    for (const w of this.waiters) w();
    await this.transport.close();
  }
}

interface Transport {
  send(bytes: Uint8Array): boolean;
  onData(fn: (bytes: Uint8Array) => void): void;
  close(): Promise<void>;
}

class UdpTransport implements Transport {
  private constructor(
    private readonly socket: Socket,
    private readonly link: { host: string; port: number },
  ) {}

  static async open(link: { host: string; port: number }): Promise<UdpTransport> {
    const socket = createSocket(link.host.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    socket.on("error", () => {}); // ICMP port unreachable and the like: the radio just lost it
    return new UdpTransport(socket, link);
  }

  send(bytes: Uint8Array): boolean {
    this.socket.send(bytes, this.link.port, this.link.host);
    return true;
  }

  onData(fn: (bytes: Uint8Array) => void): void {
    this.socket.on("message", (msg, rinfo) => {
      // Only the gateway this board talks to: a radio would not hear other networks' frames.
      if (rinfo.port === this.link.port) fn(new Uint8Array(msg));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

class SerialTransport implements Transport {
  private constructor(private readonly port: SerialPort) {}

  static async open(link: { path: string; baudRate?: number }): Promise<SerialTransport> {
    const port = new SerialPort({ path: link.path, baudRate: link.baudRate ?? 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new BoardError("BOARD_SERIAL", `cannot open ${link.path}: ${err.message}`)) : resolve())));
    port.on("error", () => {});
    return new SerialTransport(port);
  }

  send(bytes: Uint8Array): boolean {
    if (!this.port.isOpen) return false;
    this.port.write(Buffer.from(bytes));
    return true;
  }

  onData(fn: (bytes: Uint8Array) => void): void {
    this.port.on("data", (chunk: Buffer) => fn(new Uint8Array(chunk)));
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}
