// Firmware images for update tests: the real firmware.wasm, and variants made from it with wabt
// (an image that traps in init, one that never confirms itself), each with a manifest signed by a
// test publisher key.
import { readFileSync } from "node:fs";
import wabtInit from "wabt";
import { signManifest } from "../../shared/firmware-manifest.ts";
import { sha256 } from "../../shared/ed25519.ts";
import { defaultFirmwarePath } from "../../hardware/emulator/firmware.ts";
import { newIdentity } from "../../gateway/chain/keyfile.ts";

export interface Publisher {
  seed: Uint8Array;
  publicKey: Uint8Array;
}

export function makePublisher(): Publisher {
  const { seed, publicKey } = newIdentity();
  return { seed, publicKey };
}

export function firmwareImage(): Uint8Array {
  return new Uint8Array(readFileSync(defaultFirmwarePath));
}

export function manifestFor(publisher: Publisher, image: Uint8Array, version: number, abiVersion = 2): Uint8Array {
  return signManifest(publisher.seed, { version, imageBytes: image.length, imageDigest: sha256(image), abiVersion, versionText: `test-${version}` });
}

const features = { mutable_globals: true, sign_extension: true, bulk_memory: true };

async function rewrite(image: Uint8Array, edit: (wat: string) => string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.readWasm(image, { readDebugNames: false, ...features });
  const wat = edit(module.toText({ foldExprs: false, inlineExport: false }));
  module.destroy();
  const out = wabt.parseWat("variant.wat", wat, features);
  try {
    return new Uint8Array(out.toBinary({}).buffer);
  } finally {
    out.destroy();
  }
}

/** The firmware with `init` exported from a function that traps at once. */
export function trapInInit(image = firmwareImage()): Promise<Uint8Array> {
  return rewrite(image, (wat) => {
    const m = /\(export "init" \(func (\d+)\)\)/.exec(wat);
    if (!m) throw new Error("firmware exports no init");
    const typeOfInit = new RegExp(`\\(func \\(;${m[1]};\\) \\(type (\\d+)\\)`).exec(wat);
    if (!typeOfInit) throw new Error("cannot find init's type");
    const last = wat.lastIndexOf(")");
    const trap = `  (func $trap_init (type ${typeOfInit[1]}) unreachable)\n`;
    return wat.slice(0, last).replace(m[0], `(export "init" (func $trap_init))`) + trap + ")";
  });
}

/** The firmware with every call of the fw_confirm import replaced by "not confirmed" (-1). */
export function neverConfirms(image = firmwareImage()): Promise<Uint8Array> {
  return rewrite(image, (wat) => {
    const imports = [...wat.matchAll(/\(import "env" "([^"]+)" \(func \(;(\d+);\)/g)];
    const confirm = imports.find((i) => i[1] === "fw_confirm");
    if (!confirm) throw new Error("firmware does not import fw_confirm");
    const calls = new RegExp(`\\bcall ${confirm[2]}\\b`, "g");
    if (!calls.test(wat)) throw new Error("firmware never calls fw_confirm");
    return wat.replace(calls, "i32.const -1");
  });
}
