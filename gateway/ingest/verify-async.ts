// Ed25519 verification on libuv's thread pool: node:crypto's verify with a callback runs OpenSSL off
// the event loop, so the gateway verifies on every core while its main thread keeps parsing CoAP.
//
// The rule is shared/ed25519.ts verifyEd25519's, unchanged: RFC 8032 Ed25519 as OpenSSL verifies it
// (S < L, cofactorless), a wrong-length signature is a plain false. test/gateway/units.test.ts
// checks the two agree. (Lead: this belongs beside verifyEd25519 in shared/ed25519.ts.)
import { verify, type KeyObject } from "node:crypto";

export function verifyEd25519Async(key: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return Promise.resolve(false);
  return new Promise((resolve) => verify(null, message, key, signature, (err, ok) => resolve(!err && ok)));
}
