// An in-process host for the real firmware.wasm: file-backed slots in a temp dir, a virtual clock,
// and every frame the firmware transmits captured for inspection. Transport-free on purpose:
// the socket tests (device/udp.test.ts, device/serial.test.ts) cover the links.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Firmware, LINK_RADIO } from "../../hardware/emulator/firmware.ts";
import { SlotStore } from "../../hardware/emulator/slot-store.ts";
import { VirtualClock } from "../../hardware/emulator/clock.ts";

export interface CapturedFrame {
  link: number;
  atMs: number;
  bytes: Uint8Array;
}

export class TestHost {
  readonly clock = new VirtualClock();
  readonly sent: CapturedFrame[] = [];
  readonly logs: string[] = [];
  readonly slots: SlotStore;
  entropyWorks = true;

  constructor(readonly dir = mkdtempSync(join(tmpdir(), "mote-fw-"))) {
    this.slots = new SlotStore(dir);
  }

  /** Boots a fresh firmware instance on this host's flash (a power cycle: RAM state is lost). */
  boot(link = LINK_RADIO): Firmware {
    const fw = new Firmware({
      clock: this.clock,
      slots: this.slots,
      send: (l, bytes) => {
        this.sent.push({ link: l, atMs: this.clock.nowMs(), bytes });
        return true;
      },
      log: (_level, message) => {
        this.logs.push(message);
      },
      entropy: (out) => {
        if (!this.entropyWorks) return false;
        crypto.getRandomValues(out);
        return true;
      },
    });
    fw.init(link);
    return fw;
  }

  takeSent(): CapturedFrame[] {
    return this.sent.splice(0, this.sent.length);
  }
}
