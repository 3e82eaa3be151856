// The sealed frames of an established link (gateway/p2p/README.md, "Frames"): each frame's payload
// is ChaCha20-Poly1305 (RFC 8439 §2.8) under the key of its direction, with a 96-bit nonce made
// from the frame's position in that direction and never sent:
//
//   nonce(n) = 0x00000000 || uint64_be(n)          n = 0 for the handshake's auth frame, then 1, 2, …
//   sealed   = ciphertext || tag (16 bytes)        no associated data
//
// Since the nonce is implicit, a frame replayed, reordered, dropped or injected by the path is
// opened under the wrong nonce and fails its tag, exactly as a flipped bit does: all of them are
// P2P_DECRYPT, and the link is dropped (one forgery attempt per key, never more). A direction that
// reaches framesMax refuses to seal or open another frame (P2P_SESSION_EXHAUSTED): the link is
// closed and redialled, and the new handshake makes new keys. Closing rather than rekeying in place
// keeps one way to get keys. Pure: no I/O, no clock.
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { P2pError } from "./errors.ts";

export const aeadKeyBytes = 32;
export const aeadNonceBytes = 12;
export const aeadTagBytes = 16;

/**
 * Frames per direction and key by default: 2^48, about 89 years at 100,000 frames/s. The nonce has
 * room for 2^64, and counters are JS numbers, exact up to 2^53; the limit sits well below both.
 */
export const sessionFramesMaxDefault = 2 ** 48;
const framesMaxCeiling = 2 ** 53;

/** The nonce of frame `n`: four zero bytes, then n as a 64-bit big-endian integer. */
export function frameNonce(n: number): Buffer {
  const nonce = Buffer.alloc(aeadNonceBytes);
  nonce.writeUInt32BE(Math.floor(n / 2 ** 32), 4);
  nonce.writeUInt32BE(n >>> 0, 8);
  return nonce;
}

function secretKey(key: Uint8Array): KeyObject {
  if (key.length !== aeadKeyBytes) throw new RangeError(`a ChaCha20-Poly1305 key is ${aeadKeyBytes} bytes, got ${key.length}`);
  return createSecretKey(key);
}

function checkFramesMax(framesMax: number): void {
  if (!Number.isSafeInteger(framesMax) || framesMax < 1 || framesMax > framesMaxCeiling) throw new RangeError(`framesMax must be an integer in [1, 2^53], got ${framesMax}`);
}

/** One direction's key and frame counter, shared by the sealer and the opener. */
abstract class FrameDirection {
  protected readonly key: KeyObject;
  /** Position of the next frame. */
  counter = 0;

  constructor(
    key: Uint8Array,
    readonly framesMax: number = sessionFramesMaxDefault,
  ) {
    checkFramesMax(framesMax);
    this.key = secretKey(key);
  }

  /** The next frame's position; P2P_SESSION_EXHAUSTED once framesMax frames have gone (`verb`: sent or received). */
  protected take(verb: "sent" | "received"): number {
    if (this.counter >= this.framesMax) throw new P2pError("P2P_SESSION_EXHAUSTED", `this link ${verb} ${this.framesMax} frames under one key; it closes and the redial makes new keys`);
    return this.counter++;
  }
}

/** Seals the frames of one direction, in order. */
export class FrameSealer extends FrameDirection {
  seal(plaintext: Uint8Array): Uint8Array {
    const cipher = createCipheriv("chacha20-poly1305", this.key, frameNonce(this.take("sent")), { authTagLength: aeadTagBytes });
    const body = cipher.update(plaintext);
    cipher.final(); // a stream cipher: final() adds no bytes, it computes the tag
    return Buffer.concat([body, cipher.getAuthTag()], plaintext.length + aeadTagBytes); // not zero-filled first, unlike new Uint8Array
  }
}

/** Opens the frames of one direction, in order; any frame that fails its tag is fatal to the link. */
export class FrameOpener extends FrameDirection {
  /** Throws P2P_MALFORMED (shorter than a tag), P2P_DECRYPT (tag fails) or P2P_SESSION_EXHAUSTED. */
  open(sealed: Uint8Array): Uint8Array {
    const n = this.take("received");
    if (sealed.length < aeadTagBytes) throw new P2pError("P2P_MALFORMED", `sealed frame ${n} is ${sealed.length} bytes, shorter than its ${aeadTagBytes}-byte tag`);
    const bodyBytes = sealed.length - aeadTagBytes;
    const decipher = createDecipheriv("chacha20-poly1305", this.key, frameNonce(n), { authTagLength: aeadTagBytes });
    decipher.setAuthTag(sealed.subarray(bodyBytes));
    const body = decipher.update(sealed.subarray(0, bodyBytes));
    try {
      decipher.final();
    } catch {
      throw new P2pError("P2P_DECRYPT", `frame ${n} (${sealed.length} bytes) failed authentication: altered, replayed, reordered or injected on the path`);
    }
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  }

  /**
   * Passes over a frame without opening it (one the rate limit drops unread, so a flood costs no
   * decryption): the next frame is still expected at the next position.
   */
  skip(): void {
    this.take("received");
  }
}
