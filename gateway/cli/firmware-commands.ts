// `mote firmware …`: publisher keys, signed manifests (docs/firmware-update.md), and the chain's releases,
// rollouts and fleet view. A publisher key is an ordinary key file (gateway/chain/keyfile.ts, mode 0600);
// `firmware keygen` makes one and prints the kid manifests carry.
import type { Command } from "commander";
import { existsSync, writeFileSync } from "node:fs";
import { fromHex, sha256, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { decodeManifest, imageBytesMax, publisherKid, signManifest, verifyImage, verifyManifest, type SignedManifest } from "../../shared/firmware-manifest.ts";
import { newIdentity, readKeyFile, writeKeyFile } from "../chain/keyfile.ts";
import { CliError, UsageError } from "./errors.ts";
import { printFields, printJson } from "./output.ts";
import { readFile, registerFirmwareChainCommands } from "./firmware-chain-commands.ts";

/** The ABI version images built from this tree need (device/ABI.md v2). */
export const firmwareAbiVersionCurrent = 2;

function parseVersion(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1 || n > 2 ** 32 - 1) throw new UsageError("USAGE", `--version must be an integer 1..4294967295, got "${s}"`);
  return n;
}

/** A publisher's public key: 64 hex digits, or a key file whose public key is taken. */
export function readPublisherKey(arg: string): Uint8Array {
  if (/^[0-9a-f]{64}$/i.test(arg)) return fromHex(arg.toLowerCase());
  if (!existsSync(arg)) throw new UsageError("USAGE", `--publisher must be 64 hex digits of a public key or a key file; ${arg} is neither`);
  return readKeyFile(arg).publicKey;
}

function manifestFields(m: SignedManifest): Record<string, unknown> {
  return {
    "image id": m.imageId,
    version: m.manifest.version,
    "version text": m.manifest.versionText,
    "image bytes": m.manifest.imageBytes,
    "image sha256": toHex(m.manifest.imageDigest),
    "abi version": m.manifest.abiVersion,
    "publisher kid": toHex(m.kid),
    "manifest bytes": m.bytes.length,
  };
}

export function registerFirmwareCommands(program: Command): void {
  const fw = program.command("firmware").description("signed firmware manifests, releases and rollouts (docs/firmware-update.md)");
  fw.command("keygen")
    .description("create a firmware publisher key file (Ed25519 seed, mode 0600)")
    .requiredOption("--out <file>", "where to write it (refuses to overwrite)")
    .action((o: { out: string }) => {
      if (existsSync(o.out)) throw new MoteError("KEY_EXISTS", `${o.out} exists; a key file is never overwritten`);
      const who = newIdentity();
      writeKeyFile(o.out, who, "firmware publisher");
      printFields({ "public key": toHex(who.publicKey), kid: toHex(publisherKid(who.publicKey)), file: o.out });
    });

  fw.command("sign <image>")
    .description("sign a manifest for firmware.wasm with a publisher key")
    .requiredOption("--key <file>", "the publisher's key file (`mote firmware keygen` or `mote key new`)")
    .requiredOption("--version <n>", "the monotonic firmware version, 1..4294967295", parseVersion)
    .option("--text <version>", "human version text, at most 32 bytes (e.g. 1.2.0)")
    .option("--abi <n>", "the device ABI version the image needs", (s) => Number(s), firmwareAbiVersionCurrent)
    .requiredOption("-o, --out <file>", "where to write the COSE_Sign1 manifest")
    .action((image: string, o: { key: string; version: number; text?: string; abi: number; out: string }) => {
      const bytes = readFile(image, "image");
      if (bytes.length < 1 || bytes.length > imageBytesMax) throw new UsageError("IMAGE_SIZE", `${image} is ${bytes.length} bytes; an image is 1..${imageBytesMax} bytes (one slot)`);
      const who = readKeyFile(o.key);
      const manifest = signManifest(who.seed, { version: o.version, imageBytes: bytes.length, imageDigest: sha256(bytes), abiVersion: o.abi, versionText: o.text });
      writeFileSync(o.out, manifest);
      printFields({ ...manifestFields(decodeManifest(manifest)), file: o.out });
    });

  fw.command("show <manifest>")
    .description("decode a manifest; check its signature (--publisher) and an image's size and digest (--image)")
    .option("--image <file>", "firmware.wasm to check against the manifest")
    .option("--publisher <key>", "the publisher's public key (64 hex digits) or key file")
    .option("--json", "print JSON")
    .action((file: string, o: { image?: string; publisher?: string; json?: boolean }) => {
      const signed = decodeManifest(readFile(file, "manifest"));
      const checks: Record<string, string> = { signature: "not checked (give --publisher)", image: "not checked (give --image)" };
      let failure: MoteError | undefined;
      if (o.publisher) {
        try {
          verifyManifest(signed, readPublisherKey(o.publisher));
          checks.signature = "valid";
        } catch (e) {
          if (!(e instanceof MoteError) || e.code !== "SIGNATURE") throw e;
          checks.signature = "INVALID";
          failure = e;
        }
      }
      if (o.image) {
        try {
          verifyImage(signed.manifest, readFile(o.image, "image"));
          checks.image = "matches";
        } catch (e) {
          if (!(e instanceof MoteError) || e.code !== "DIGEST") throw e;
          checks.image = "DIFFERS";
          failure ??= e;
        }
      }
      if (o.json) printJson({ ...manifestFields(signed), checks });
      else printFields({ ...manifestFields(signed), ...checks });
      if (failure) throw new CliError(failure.code, failure.message);
    });

  registerFirmwareChainCommands(fw);

}
