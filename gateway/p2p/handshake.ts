// The handshake that opens every connection: each side proves it holds the Ed25519 key it claims,
// by signing both sides' fresh nonces (a challenge-response over both, so neither a recorded
// handshake nor a reflected signature can be replayed), bound to the chain and to its role.
//
//   1. both → hello = cbor(["moteledger/p2p", 1, chainId, publicKey (32), nonce (32)])
//   2. both → auth  = cbor([signature (64)]) over
//        cbor(["moteledger/p2p-auth", chainId, initiatorNonce, responderNonce, signerKey, peerKey, role])
//      role = "initiator" for the dialling side, "responder" for the accepting side
//
// After a valid auth the peer is known by its validator/account id: SHA-256(publicKey)[0..16].
import type { KeyObject } from "node:crypto";
import { decode, encode } from "../../shared/cbor.ts";
import { PublicKeyCache, signEd25519, verifyEd25519 } from "../../shared/ed25519.ts";
import { P2pError } from "./errors.ts";

export const p2pDomain = "moteledger/p2p";
export const p2pVersion = 1;
export const nonceBytes = 32;

export type Role = "initiator" | "responder";

export interface Hello {
  chainId: string;
  publicKey: Uint8Array;
  nonce: Uint8Array;
}

function fail(message: string): never {
  throw new P2pError("P2P_HANDSHAKE", message);
}

export function encodeHello(h: Hello): Uint8Array {
  return encode([p2pDomain, p2pVersion, h.chainId, h.publicKey, h.nonce]);
}

export function decodeHello(bytes: Uint8Array, expectChainId: string): Hello {
  let v;
  try {
    v = decode(bytes, { depthMax: 1, itemsMax: 5, bytesMax: 128 });
  } catch (e) {
    return fail(`hello is not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 5 || v[0] !== p2pDomain) return fail("not a moteledger hello");
  if (v[1] !== p2pVersion) return fail(`peer speaks p2p version ${String(v[1])}, this node ${p2pVersion}`);
  const [, , chainId, publicKey, nonce] = v;
  if (chainId !== expectChainId) return fail(`peer is on chain "${String(chainId)}", this node on "${expectChainId}": check both genesis files`);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32 || !(nonce instanceof Uint8Array) || nonce.length !== nonceBytes) return fail("hello key or nonce has the wrong length");
  return { chainId, publicKey, nonce };
}

function authMessage(chainId: string, initiatorNonce: Uint8Array, responderNonce: Uint8Array, signer: Uint8Array, peer: Uint8Array, role: Role): Uint8Array {
  return encode(["moteledger/p2p-auth", chainId, initiatorNonce, responderNonce, signer, peer, role]);
}

export interface HandshakeSide {
  role: Role;
  chainId: string;
  privateKey: KeyObject;
  publicKey: Uint8Array;
  ownNonce: Uint8Array;
}

/** Our auth frame once the peer's hello is in. */
export function encodeAuth(me: HandshakeSide, peer: Hello): Uint8Array {
  const [i, r] = me.role === "initiator" ? [me.ownNonce, peer.nonce] : [peer.nonce, me.ownNonce];
  return encode([signEd25519(me.privateKey, authMessage(me.chainId, i, r, me.publicKey, peer.publicKey, me.role))]);
}

const keys = new PublicKeyCache(4096);

/** Checks the peer's auth frame; throws P2P_HANDSHAKE when it does not prove the peer's key. */
export function verifyAuth(me: HandshakeSide, peer: Hello, bytes: Uint8Array): void {
  let v;
  try {
    v = decode(bytes, { depthMax: 1, itemsMax: 1, bytesMax: 64 });
  } catch (e) {
    return fail(`auth is not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 1 || !(v[0] instanceof Uint8Array)) return fail("auth must be [signature]");
  const peerRole: Role = me.role === "initiator" ? "responder" : "initiator";
  const [i, r] = me.role === "initiator" ? [me.ownNonce, peer.nonce] : [peer.nonce, me.ownNonce];
  const message = authMessage(me.chainId, i, r, peer.publicKey, me.publicKey, peerRole);
  if (!verifyEd25519(keys.get(peer.publicKey), message, v[0])) fail("peer's signature over the nonces does not verify: it does not hold the key it claims");
}
