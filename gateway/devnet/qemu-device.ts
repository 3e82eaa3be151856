// The emulated microcontroller in `npm start`: firmware.wasm compiled by wasm2c for the mps2-an385
// board (Cortex-M3) under qemu-system-arm (hardware/mps2-an385/), its UART0 on a pty pair whose
// other end gateway 1 opens as one more serial port. It signs a reading every interval by itself
// (the board's own timer), so it is not part of the Fleet. Present when the Debian toolchain is;
// otherwise npm start says what to install and runs without it.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { openPtyPair, socatAvailable, type PtyPair } from "../../hardware/emulator/pty-pair.ts";
import { buildBoard } from "../../hardware/mps2-an385/build.ts";
import { QemuBoard, qemuBoardUnavailable } from "../../hardware/mps2-an385/qemu-board.ts";

export class QemuDevice {
  board: QemuBoard | undefined;
  private readonly log: WriteStream;

  private constructor(
    readonly line: PtyPair,
    private readonly dataDir: string,
    readonly logPath: string,
  ) {
    this.log = createWriteStream(logPath, { flags: "a" });
  }

  /** Builds the board image and opens its serial line; undefined (and says why) when it cannot run here. */
  static async open(dir: string, progress: (line: string) => void): Promise<QemuDevice | undefined> {
    const unavailable = qemuBoardUnavailable() ?? (socatAvailable() ? undefined : "socat is missing (apt-get install socat)");
    if (unavailable) {
      progress(`      no emulated Cortex-M board: ${unavailable}`);
      return undefined;
    }
    const image = buildBoard();
    progress(`      mps2-an385 board image: flash ${image.figures.flashBytes} B of ${image.figures.flashBudgetBytes}, RAM ${image.figures.ramBytes} B of ${image.figures.ramBudgetBytes}`);
    return new QemuDevice(await openPtyPair(), join(dir, "devices", "qemu-mps2-an385"), join(dir, "board-mps2-an385.log"));
  }

  /** The path gateway 1 opens for this board. */
  get gatewaySide(): string {
    return this.line.b;
  }

  /** Boots once without signing to learn the identity it keeps in flash (to enroll it first). */
  async identity(): Promise<{ publicKey: Uint8Array; deviceId: Uint8Array }> {
    const probe = await this.boot(0);
    await probe.stop();
    return { publicKey: probe.publicKey, deviceId: probe.deviceId };
  }

  /** Boots the board for good: one reading every intervalMs. */
  async start(intervalMs: number): Promise<QemuBoard> {
    this.board = await this.boot(intervalMs);
    return this.board;
  }

  private boot(intervalMs: number): Promise<QemuBoard> {
    return QemuBoard.boot({ dataDir: this.dataDir, serialPath: this.line.a, intervalMs, log: (l) => this.log.write(`${new Date().toISOString()} ${l}\n`) });
  }

  async close(): Promise<void> {
    await this.board?.stop();
    await this.line.close();
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}
