// The gateway's own Ed25519 identity, used to co-sign reading batches. The 32-byte seed lives in
// `<dataDir>/gateway.key` (mode 0600: 64 hex digits, or the chain's JSON key file with "seed"),
// created from node:crypto randomness on first start; the
// gateway id is derived from the public key exactly as a device id is (shared/ed25519.ts).
import { randomBytes, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { deviceIdFromPublicKey, privateKeyObject, publicKeyFromSeed, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";

export const gatewayKeyFile = "gateway.key";

export interface GatewayIdentity {
  privateKey: KeyObject;
  publicKey: Uint8Array;
  gatewayId: Uint8Array;
}

export function identityFromSeed(seed: Uint8Array): GatewayIdentity {
  const publicKey = publicKeyFromSeed(seed);
  return { privateKey: privateKeyObject(seed), publicKey, gatewayId: deviceIdFromPublicKey(publicKey) };
}

/** Loads the gateway key from `dataDir`, creating it on first start. */
export function loadOrCreateIdentity(dataDir: string): GatewayIdentity {
  const path = join(dataDir, gatewayKeyFile);
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8").trim();
    // Also read the chain's JSON key files (gateway/chain/keyfile.ts): one key per node.
    const hex = text.startsWith("{") ? String((JSON.parse(text) as { seed?: unknown }).seed) : text;
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new MoteError("GATEWAY_KEY_CORRUPT", `${path} must hold a 32-byte Ed25519 seed as 64 hex digits; restore it from backup (a new key is a new gateway)`);
    return identityFromSeed(new Uint8Array(Buffer.from(hex, "hex")));
  }
  mkdirSync(dataDir, { recursive: true });
  const seed = new Uint8Array(randomBytes(32));
  // Write then rename: a crash never leaves a half-written key behind.
  writeFileSync(`${path}.tmp`, `${toHex(seed)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return identityFromSeed(seed);
}
