// The handshake that opens every connection between gateways, p2p version 2 (the protocol in full:
// gateway/p2p/README.md). It gives each link fresh keys (forward secrecy: ephemeral X25519 on both
// sides) and authenticates them with the gateways' existing Ed25519 keys (each side signs the
// transcript, which holds both ephemerals and both identities), in the SIGMA style TLS 1.3 uses:
//
//   1. both → hello = cbor(["moteledger/p2p", 2, chainId, identityKey (Ed25519, 32), ephemeralKey (X25519, 32)])
//               sent in clear, as the first frame
//   2. both:  shared = X25519(own ephemeral, peer's ephemeral)                      RFC 7748 §6.1
//             th     = SHA-256(cbor(["moteledger/p2p-v2-transcript", initiatorHello, responderHello]))
//             keys   = HKDF-SHA256(ikm = shared, salt = th, info = label, 32)        RFC 5869
//                      label "moteledger/p2p-v2 initiator->responder" and "… responder->initiator"
//   3. both → auth  = frame 0 of its direction, sealed (session-cipher.ts): cbor([signature (64)]) by
//                     its identity key over cbor(["moteledger/p2p-v2-auth", role, th])
//
// A peer is authenticated when its auth frame opens under the derived key (it computed the same
// shared secret and transcript: key confirmation) and its signature over th verifies under the
// identity key in its hello. A man in the middle who swaps an ephemeral changes th and cannot sign
// it; a recorded handshake replayed meets a fresh ephemeral and a different th; a signature
// reflected back carries the other role. Ephemeral private keys are dropped once the shared secret
// is derived. After auth the peer is known by its validator/account id: SHA-256(identityKey)[0..16].
import { createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from "node:crypto";
import { decode, encode } from "../../shared/cbor.ts";
import { PublicKeyCache, signEd25519, verifyEd25519 } from "../../shared/ed25519.ts";
import { P2pError } from "./errors.ts";
import { FrameOpener, FrameSealer, sessionFramesMaxDefault } from "./session-cipher.ts";

export const p2pDomain = "moteledger/p2p";
/** 1: Ed25519 challenge-response over nonces, frames in clear. 2: this file, sealed frames. */
export const p2pVersion = 2;
export const x25519KeyBytes = 32;
export const transcriptLabel = "moteledger/p2p-v2-transcript";
export const authLabel = "moteledger/p2p-v2-auth";
export const keyLabels = { initiatorToResponder: "moteledger/p2p-v2 initiator->responder", responderToInitiator: "moteledger/p2p-v2 responder->initiator" } as const;

export type Role = "initiator" | "responder";

export interface Hello {
  chainId: string;
  /** Ed25519 identity (the gateway's key file). */
  publicKey: Uint8Array;
  /** X25519 public key made for this connection only. */
  ephemeral: Uint8Array;
}

function fail(message: string): never {
  throw new P2pError("P2P_HANDSHAKE", message);
}

export function encodeHello(h: Hello): Uint8Array {
  return encode([p2pDomain, p2pVersion, h.chainId, h.publicKey, h.ephemeral]);
}

export function decodeHello(bytes: Uint8Array, expectChainId: string): Hello {
  let v;
  try {
    v = decode(bytes, { depthMax: 1, itemsMax: 8, bytesMax: 128 }); // room for a later version's fields, so it gets the version message
  } catch (e) {
    return fail(`hello is not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length < 2 || v[0] !== p2pDomain) return fail("not a moteledger hello");
  if (v[1] !== p2pVersion) return fail(`peer speaks p2p version ${String(v[1])}, this node ${p2pVersion}: run the same release on both`);
  if (v.length !== 5) return fail("hello must be [domain, version, chainId, identityKey, ephemeralKey]");
  const [, , chainId, publicKey, ephemeral] = v;
  if (chainId !== expectChainId) return fail(`peer is on chain "${String(chainId)}", this node on "${expectChainId}": check both genesis files`);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32 || !(ephemeral instanceof Uint8Array) || ephemeral.length !== x25519KeyBytes) return fail("hello identity or ephemeral key has the wrong length");
  return { chainId, publicKey, ephemeral };
}

// ---- X25519, transcript, keys (pure but for the key generation) --------------------------------

// DER prefix that wraps a raw 32-byte X25519 key as SubjectPublicKeyInfo (RFC 8410 §4, OID 1.3.101.110).
const x25519SpkiPrefix = Buffer.from("302a300506032b656e032100", "hex");

export interface Ephemeral {
  privateKey: KeyObject;
  publicKey: Uint8Array;
}

export function newEphemeral(): Ephemeral {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { privateKey, publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(x25519SpkiPrefix.length)) };
}

/** X25519(own, peer) (RFC 7748 §6.1); refuses a peer key of small order (OpenSSL's all-zero check, and ours). */
export function sharedSecret(own: KeyObject, peerEphemeral: Uint8Array): Uint8Array {
  let shared: Buffer;
  try {
    const peer = createPublicKey({ key: Buffer.concat([x25519SpkiPrefix, peerEphemeral]), format: "der", type: "spki" });
    shared = diffieHellman({ privateKey: own, publicKey: peer });
  } catch (e) {
    return fail(`peer's ephemeral key gives no shared secret (a point of small order?): ${(e as Error).message}`);
  }
  if (shared.every((b) => b === 0)) fail("peer's ephemeral key gives the all-zero shared secret");
  return new Uint8Array(shared);
}

/** th = SHA-256 over both hellos exactly as sent (so both identities, ephemerals, chain and version). */
export function transcriptHash(initiatorHello: Uint8Array, responderHello: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(encode([transcriptLabel, initiatorHello, responderHello])).digest());
}

export interface SessionKeys {
  initiatorToResponder: Uint8Array;
  responderToInitiator: Uint8Array;
}

export function deriveSessionKeys(shared: Uint8Array, transcript: Uint8Array): SessionKeys {
  const key = (label: string) => new Uint8Array(hkdfSync("sha256", shared, transcript, label, 32));
  return { initiatorToResponder: key(keyLabels.initiatorToResponder), responderToInitiator: key(keyLabels.responderToInitiator) };
}

function authMessage(role: Role, transcript: Uint8Array): Uint8Array {
  return encode([authLabel, role, transcript]);
}

export function encodeAuth(identity: KeyObject, role: Role, transcript: Uint8Array): Uint8Array {
  return encode([signEd25519(identity, authMessage(role, transcript))]);
}

const keys = new PublicKeyCache(4096);

/** Checks an opened auth frame: `peerRole`'s signature over th by `peerPublicKey`. Throws P2P_HANDSHAKE. */
export function verifyAuth(peerPublicKey: Uint8Array, peerRole: Role, transcript: Uint8Array, bytes: Uint8Array): void {
  let v;
  try {
    v = decode(bytes, { depthMax: 1, itemsMax: 1, bytesMax: 64 });
  } catch (e) {
    return fail(`auth is not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 1 || !(v[0] instanceof Uint8Array)) return fail("auth must be [signature]");
  if (!verifyEd25519(keys.get(peerPublicKey), authMessage(peerRole, transcript), v[0])) fail("peer's signature over the transcript does not verify: it does not hold the key it claims, or the handshake was altered");
}

// ---- the exchange, as a state machine over frames (no sockets) ----------------------------------

export interface LocalKeys {
  chainId: string;
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

export interface Established {
  peer: Hello;
  transcript: Uint8Array;
  /** Our direction; frame 0 (our auth) already sealed. */
  sealer: FrameSealer;
  /** The peer's direction; frame 0 (its auth) already opened. */
  opener: FrameOpener;
}

export interface HandshakeStep {
  /** Frames to write, in order. */
  send: Uint8Array[];
  /** Set once the peer is authenticated; the handshake takes no more frames. */
  established?: Established;
}

/**
 * One side of the handshake: send `hello` first, then feed every frame that arrives to `receive`
 * until it returns `established`. Any refusal is a thrown P2pError (P2P_HANDSHAKE, P2P_SELF, or
 * P2P_SESSION_EXHAUSTED for a framesMax too small to hold the auth).
 */
export class Handshake {
  readonly hello: Uint8Array;
  private ephemeral: Ephemeral | undefined;
  private peer: Hello | undefined;
  private transcript: Uint8Array | undefined;
  private sealer: FrameSealer | undefined;
  private opener: FrameOpener | undefined;
  private done = false;

  constructor(
    readonly role: Role,
    private readonly me: LocalKeys,
    private readonly framesMax: number = sessionFramesMaxDefault,
    ephemeral: Ephemeral = newEphemeral(),
  ) {
    this.ephemeral = ephemeral;
    this.hello = encodeHello({ chainId: me.chainId, publicKey: me.publicKey, ephemeral: ephemeral.publicKey });
  }

  receive(frame: Uint8Array): HandshakeStep {
    if (this.done) throw new Error("handshake already established: frames go to the session cipher");
    return this.peer ? this.receiveAuth(frame) : this.receiveHello(frame);
  }

  private receiveHello(frame: Uint8Array): HandshakeStep {
    const peer = decodeHello(frame, this.me.chainId);
    if (Buffer.compare(peer.publicKey, this.me.publicKey) === 0) throw new P2pError("P2P_SELF", "connected to itself; remove this node's own address from its peers");
    const shared = sharedSecret(this.ephemeral!.privateKey, peer.ephemeral);
    this.ephemeral = undefined; // forward secrecy: nothing left that recomputes the shared secret
    const [i, r] = this.role === "initiator" ? [this.hello, frame] : [frame, this.hello];
    const transcript = transcriptHash(i, r);
    const k = deriveSessionKeys(shared, transcript);
    const [own, theirs] = this.role === "initiator" ? [k.initiatorToResponder, k.responderToInitiator] : [k.responderToInitiator, k.initiatorToResponder];
    this.peer = peer;
    this.transcript = transcript;
    this.sealer = new FrameSealer(own, this.framesMax);
    this.opener = new FrameOpener(theirs, this.framesMax);
    return { send: [this.sealer.seal(encodeAuth(this.me.privateKey, this.role, transcript))] };
  }

  private receiveAuth(frame: Uint8Array): HandshakeStep {
    let auth: Uint8Array;
    try {
      auth = this.opener!.open(frame);
    } catch (e) {
      if ((e as P2pError).code === "P2P_SESSION_EXHAUSTED") throw e;
      return fail(`peer's auth frame does not open under the session key: it did not see our hello (a man in the middle?) or the frame was altered (${(e as Error).message})`);
    }
    verifyAuth(this.peer!.publicKey, this.role === "initiator" ? "responder" : "initiator", this.transcript!, auth);
    this.done = true;
    return { send: [], established: { peer: this.peer!, transcript: this.transcript!, sealer: this.sealer!, opener: this.opener! } };
  }
}
