// Runs the firmware on real WAMR and checks what it sends: a `coap` server on loopback verifies
// every reading the WAMR board signs (node:crypto, against the public key the board printed).
// The host binary is host.c + abi.c + ../abi/mote-abi.c + slots.c linked with your WAMR build
// (see README.md); this repository does not build WAMR.
//
//   npx tsx hardware/wamr/check.ts <path to the host binary> [readings]
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "coap";
import { decodeReading, verifyReading } from "../../shared/reading.ts";
import { fromHex, publicKeyObject, toHex } from "../../shared/ed25519.ts";
import { defaultFirmwarePath } from "../emulator/firmware.ts";

const [hostBinary, count = "20"] = process.argv.slice(2);
if (!hostBinary) {
  console.error("usage: tsx hardware/wamr/check.ts <path to mote-wamr-host> [readings]");
  process.exit(2);
}
const readings: Uint8Array[] = [];
const server = createServer((req, res) => {
  readings.push(new Uint8Array(req.payload));
  res.code = "2.01";
  res.end();
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const port = (server as any)._sock.address().port as number;
const dataDir = mkdtempSync(join(tmpdir(), "mote-wamr-"));

const run = () =>
  new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn(hostBinary, [defaultFirmwarePath, dataDir, "127.0.0.1", String(port), count], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.on("exit", (code) => resolve({ code: code ?? -1, out }));
  });

let failures = 0;
let lastSequence = -1;
for (const boot of [1, 2]) {
  readings.length = 0;
  const { code, out } = await run();
  process.stdout.write(out.replace(/^/gm, `  boot ${boot}| `));
  const publicKey = fromHex(/public-key (\w+)/.exec(out)![1]);
  const key = publicKeyObject(publicKey);
  for (const bytes of readings) {
    const r = decodeReading(bytes);
    const ok = verifyReading(r, key) && r.sequence > lastSequence;
    if (!ok) failures++;
    lastSequence = r.sequence;
  }
  console.log(`boot ${boot}: exit ${code}, ${readings.length} readings received, device ${toHex(decodeReading(readings[0]).deviceId)}, all verified and increasing: ${failures === 0}`);
  if (code !== 0) failures++;
}
server.close();
process.exit(failures === 0 ? 0 : 1);
