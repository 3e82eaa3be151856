// `mote device flash <firmware.wasm> --port <tty> --manifest <file>`: checks the pair locally (the
// manifest decodes and names this image), pushes it with a progress bar, and prints what the board
// booted. A cut cable ends the run with a hint; the same command then resumes where it stopped.
import { decodeManifest, verifyImage } from "../../shared/firmware-manifest.ts";
import { flashOverSerial, type FlashProgress } from "../flash/serial-flasher.ts";
import { CliError, UsageError } from "./errors.ts";
import { readFile } from "./firmware-chain-commands.ts";
import { printFields } from "./output.ts";

/** One line, redrawn in place on a terminal; a line per 10% otherwise (logs, CI). */
function progressBar(): (p: FlashProgress) => void {
  let lastTenth = -1;
  return (p) => {
    const fraction = p.total === 0 ? 1 : p.sent / p.total;
    const resumed = p.resumedAt > 0 ? ` (resumed at ${p.resumedAt} bytes)` : "";
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${p.sent}/${p.total} bytes${resumed}`);
      if (p.sent === p.total) process.stderr.write("\n");
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      process.stderr.write(`flash: ${tenth * 10}% ${p.sent}/${p.total} bytes${resumed}\n`);
    }
  };
}

export async function flashDevice(o: { firmware: string; port: string; manifest: string; baud: number }): Promise<void> {
  const image = readFile(o.firmware, "firmware image");
  const manifest = readFile(o.manifest, "manifest");
  let version: number;
  try {
    const signed = decodeManifest(manifest);
    verifyImage(signed.manifest, image);
    version = signed.manifest.version;
  } catch (e) {
    throw new UsageError("MANIFEST_MISMATCH", `${o.manifest} is not the manifest of ${o.firmware}: ${(e as Error).message}`);
  }
  const status = await flashOverSerial({ port: o.port, baudRate: o.baud, image, manifest, onProgress: progressBar() });
  if (status.version !== version) {
    throw new CliError("FLASH_NOT_BOOTED", `the board runs v${status.version} after the install, not v${version}${status.failureReason ? ` (${status.failureReason})` : ""}`);
  }
  printFields({
    "running version": status.version,
    state: status.onTrial ? "on trial: it confirms itself when a gateway acknowledges one of its readings, else it rolls back" : "confirmed",
  });
}
