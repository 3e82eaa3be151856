// One instance of firmware.wasm with its imports bound to a board's parts (device/ABI.md).
// This is the Node twin of the WAMR native glue: same imports, same contract, same budgets
// (the module's own 1-page memory; an instance whose memory is not exactly 64 KiB is refused).
import { readFileSync } from "node:fs";
import { createHash, randomFillSync } from "node:crypto";
import type { Clock } from "./clock.ts";
import type { SlotStore } from "./slot-store.ts";
import { FirmwareError, FirmwareFault } from "./errors.ts";
import { packageFile } from "../../shared/package-paths.ts";

/** Built by `npm run build:device`, beside the sources, for runs from source and from dist/ alike. */
export const defaultFirmwarePath = packageFile("device/build/firmware.wasm");

export const LINK_RADIO = 0;
export const LINK_SERIAL = 1;
export const RX_BYTES_MAX = 1280;
const ENTROPY_BYTES_MAX = 64;

export const counters = {
  readingsSigned: 0,
  messagesSent: 1,
  retransmissions: 2,
  readingsAcked: 3,
  readingsRejected: 4,
  exchangesGaveUp: 5,
  rxMalformed: 6,
  rxDuplicates: 7,
  outboxDropped: 8,
  sequenceNext: 9,
} as const;
export type CounterName = keyof typeof counters;

/**
 * The boot loader's side of ABI v2 (docs/firmware-update.md): image slots, install, confirm.
 * A host without one answers as a board without an update slot: nothing can be installed.
 */
export interface UpdateHost {
  /** Running version, on trial, last failed version and its reason (0 when none). */
  state(): { version: number; trial: boolean; failedVersion: number; failureReason: number };
  /** Writes image bytes at `offset` of the inactive slot (0 starts a new image): 0, -1 out of range, -2 I/O. */
  write(offset: number, bytes: Uint8Array): number;
  /** Verifies and installs the image for this manifest: 0 (boots it on trial after the current call) or -reason. */
  install(manifest: Uint8Array): number;
  /** The running image on trial confirms itself: 0, or -1 if it is not on trial. */
  confirm(): number;
}

const noUpdates: UpdateHost = {
  state: () => ({ version: 0, trial: false, failedVersion: 0, failureReason: 0 }),
  write: () => -1,
  install: () => -5,
  confirm: () => -1,
};

export interface FirmwareHost {
  clock: Clock;
  slots: SlotStore;
  updates?: UpdateHost;
  send(link: number, bytes: Uint8Array): boolean;
  log(level: number, message: string): void;
  entropy?: (out: Uint8Array) => boolean;
}

const moduleCache = new Map<string, WebAssembly.Module>();

/** A firmware file by path, or an image's bytes (from a boot loader's slot) by content. */
function compiled(wasm: string | Uint8Array): WebAssembly.Module {
  const key = typeof wasm === "string" ? `path:${wasm}` : `sha256:${createHash("sha256").update(wasm).digest("hex")}`;
  let m = moduleCache.get(key);
  if (!m) {
    m = new WebAssembly.Module((typeof wasm === "string" ? readFileSync(wasm) : wasm) as BufferSource);
    moduleCache.set(key, m);
  }
  return m;
}

function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr < 4 || ptr > memory.buffer.byteLength) return "";
  const len = new DataView(memory.buffer).getUint32(ptr - 4, true);
  return Buffer.from(memory.buffer, ptr, Math.min(len, memory.buffer.byteLength - ptr)).toString("utf16le");
}

export class Firmware {
  private readonly memory: WebAssembly.Memory;
  private readonly x: Record<string, any>;

  constructor(
    readonly host: FirmwareHost,
    wasm: string | Uint8Array = defaultFirmwarePath,
  ) {
    let memory!: WebAssembly.Memory;
    const bytes = () => new Uint8Array(memory.buffer);
    const env = {
      entropy: (ptr: number, len: number): number => {
        if (len < 0 || len > ENTROPY_BYTES_MAX) return -1;
        const out = bytes().subarray(ptr, ptr + len);
        if (host.entropy) return host.entropy(out) ? 0 : -1;
        randomFillSync(out);
        return 0;
      },
      now_ms: (): bigint => BigInt(host.clock.nowMs()),
      storage_read: (slot: number, ptr: number, cap: number): number => {
        try {
          const data = host.slots.read(slot);
          if (data === null) return -1;
          const n = Math.min(cap, data.length);
          bytes().set(data.subarray(0, n), ptr);
          return data.length;
        } catch {
          return -2;
        }
      },
      storage_write: (slot: number, ptr: number, len: number): number => {
        try {
          host.slots.write(slot, bytes().slice(ptr, ptr + len));
          return 0;
        } catch {
          return -1;
        }
      },
      link_send: (link: number, ptr: number, len: number): number => (host.send(link, bytes().slice(ptr, ptr + len)) ? 0 : -1),
      log: (level: number, ptr: number, len: number): void => host.log(level, Buffer.from(memory.buffer, ptr, len).toString("utf8")),
      fw_state: (ptr: number): void => {
        const s = (host.updates ?? noUpdates).state();
        const view = new DataView(memory.buffer, ptr, 16);
        view.setUint32(0, s.version, true);
        view.setUint32(4, s.trial ? 1 : 0, true);
        view.setUint32(8, s.failedVersion, true);
        view.setUint32(12, s.failureReason, true);
      },
      fw_write: (offset: number, ptr: number, len: number): number => (host.updates ?? noUpdates).write(offset, bytes().slice(ptr, ptr + len)),
      fw_install: (ptr: number, len: number): number => (host.updates ?? noUpdates).install(bytes().slice(ptr, ptr + len)),
      fw_confirm: (): number => (host.updates ?? noUpdates).confirm(),
      abort: (msg: number, file: number, line: number, col: number): never => {
        throw new FirmwareFault("FIRMWARE_ABORT", `firmware aborted: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}`);
      },
    };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(compiled(wasm), { env });
    } catch (e) {
      throw new FirmwareFault("FIRMWARE_LOAD", `firmware image does not load: ${(e as Error).message}`);
    }
    memory = instance.exports.memory as WebAssembly.Memory;
    if (memory.buffer.byteLength !== 65536) throw new FirmwareFault("FIRMWARE_MEMORY", `firmware memory is ${memory.buffer.byteLength} bytes; the ABI requires exactly one 64 KiB page`);
    this.memory = memory;
    this.x = instance.exports;
  }

  /** Calls an export; a trap is a firmware bug and surfaces as FirmwareFault. */
  private call<T>(name: string, ...args: unknown[]): T {
    try {
      return this.x[name](...args);
    } catch (e) {
      if (e instanceof FirmwareFault) throw e;
      throw new FirmwareFault("FIRMWARE_TRAP", `firmware trapped in ${name}: ${(e as Error).message}`);
    }
  }

  init(link: number): void {
    const rc = this.call<number>("init", link);
    if (rc < 0) throw new FirmwareError(rc, "init");
  }

  /** 32-byte public key and 16-byte device id. */
  identity(): { publicKey: Uint8Array; deviceId: Uint8Array } {
    const p = this.call<number>("identity");
    const b = new Uint8Array(this.memory.buffer, p, 48).slice();
    return { publicKey: b.subarray(0, 32), deviceId: b.subarray(32, 48) };
  }

  /** Signs and queues a reading; returns its sequence number. */
  reading(sensor: number, value: number): number {
    const seq = this.call<bigint>("reading", sensor, value);
    if (seq < 0n) throw new FirmwareError(Number(seq), "reading");
    return Number(seq);
  }

  /** Hands received bytes to the firmware; returns how many CoAP messages it handled (≥ 0) or an error code. */
  receive(link: number, data: Uint8Array): number {
    let handled = 0;
    for (let off = 0; off < data.length || (off === 0 && data.length === 0); off += RX_BYTES_MAX) {
      const chunk = data.subarray(off, off + RX_BYTES_MAX);
      if (link === LINK_RADIO && data.length > RX_BYTES_MAX) return -8; // a datagram too big for the device
      new Uint8Array(this.memory.buffer, this.call<number>("rx_buffer"), RX_BYTES_MAX).set(chunk);
      const rc = this.call<number>("receive", link, chunk.length);
      if (rc < 0) return rc;
      handled += rc;
      if (data.length === 0) break;
    }
    return handled;
  }

  /** Runs due timers; returns ms until the next deadline, or -1 when idle. */
  tick(): number {
    return this.call<number>("tick");
  }

  stat(name: CounterName): number {
    return Number(this.call<bigint>("stat", counters[name]));
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}
