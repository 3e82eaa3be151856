// A board emulator in its own process, for power-cut tests: boots the board on a serial port with
// update provisioning, prints "ready <device id> <version>" and runs until it is killed.
// argv: <flash dir> <serial path> <publisher key hex> <factory manifest hex>
import { Board } from "../../hardware/emulator/board.ts";
import { fromHex } from "../../shared/ed25519.ts";

const [dir, path, publisherHex, manifestHex] = process.argv.slice(2);
const board = await Board.boot({
  dataDir: dir,
  link: { kind: "serial", path },
  updates: { publisherKey: fromHex(publisherHex), manifest: fromHex(manifestHex) },
});
process.stdout.write(`ready ${board.deviceIdHex} ${board.firmwareVersion}\n`);
board.on("boot", (b: { version: number }) => process.stdout.write(`boot ${b.version}\n`));
setInterval(() => {}, 1 << 30);
