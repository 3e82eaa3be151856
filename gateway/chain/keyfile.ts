// Key files of gateways and accounts: JSON with the Ed25519 seed (RFC 8032 §5.1.5 private key),
// written with mode 0600. A gateway's account id, its gateway id in attestations and its
// validator id are one and the same: the first 16 bytes of SHA-256 of its public key.
import { randomBytes, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { deviceIdFromPublicKey, fromHex, privateKeyObject, publicKeyFromSeed, toHex } from "../../shared/ed25519.ts";
import { ChainError } from "./errors.ts";

export interface Identity {
  seed: Uint8Array;
  publicKey: Uint8Array;
  id: Uint8Array;
  key: KeyObject;
}

export function identityFromSeed(seed: Uint8Array): Identity {
  const publicKey = publicKeyFromSeed(seed);
  return { seed, publicKey, id: deviceIdFromPublicKey(publicKey), key: privateKeyObject(seed) };
}

export function newIdentity(): Identity {
  return identityFromSeed(new Uint8Array(randomBytes(32)));
}

export function writeKeyFile(path: string, who: Identity, label: string): void {
  const json = { label, id: toHex(who.id), publicKey: toHex(who.publicKey), seed: toHex(who.seed) };
  writeFileSync(path, JSON.stringify(json, null, 2) + "\n", { mode: 0o600 });
}

export function readKeyFile(path: string): Identity {
  let json: { seed?: unknown; publicKey?: unknown };
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ChainError("KEYFILE_READ", `cannot read key file ${path}: ${(e as Error).message}`);
  }
  if (typeof json.seed !== "string" || !/^[0-9a-f]{64}$/.test(json.seed)) throw new ChainError("KEYFILE_SHAPE", `${path}: "seed" must be 64 hex characters`);
  const who = identityFromSeed(fromHex(json.seed));
  if (json.publicKey !== undefined && json.publicKey !== toHex(who.publicKey)) throw new ChainError("KEYFILE_SHAPE", `${path}: "publicKey" does not belong to "seed"; the file is damaged`);
  return who;
}
