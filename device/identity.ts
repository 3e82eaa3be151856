// Device identity and the sequence counter, both persisted through the host's storage slots.
//
// Identity (slot 0): "MLI1" | seed (32) | check (4), check = SHA-256("MLI1" | seed)[0..4].
//   Born once from the host's entropy; a record that fails its check is never replaced silently
//   (a new key would be a new device), init reports E_IDENTITY_CORRUPT instead.
// Sequence (slot 1): "MLS1" | high-water mark (u64 LE) | check (4).
//   Numbers below the mark may have been used. Boot resumes at the mark and reserves the next
//   SEQUENCE_BLOCK numbers before signing with any of them, so a crash (no clean shutdown) only
//   skips numbers, never reuses one. One flash write per block keeps wear low.
import { ed25519PublicKey } from "./crypto/ed25519";
import { sha256 } from "./crypto/sha256";
import { hostEntropy, hostStorageRead, hostStorageWrite } from "./host";
import { E_ENTROPY, E_IDENTITY_CORRUPT, E_SEQUENCE_CORRUPT, E_STORAGE } from "./errors";

const SLOT_IDENTITY: i32 = 0;
const SLOT_SEQUENCE: i32 = 1;
const MAGIC_IDENTITY: u32 = 0x3149_4c4d; // "MLI1" little-endian
const MAGIC_SEQUENCE: u32 = 0x3153_4c4d; // "MLS1" little-endian
const IDENTITY_RECORD_BYTES: i32 = 40;
const SEQUENCE_RECORD_BYTES: i32 = 16;
const SEQUENCE_BLOCK: u64 = 64;
/** Partial IV holds at most 5 bytes (RFC 8613 §6.1). */
export const SEQUENCE_MAX: u64 = (<u64>1 << 40) - 1;

const record = memory.data(48); // slot I/O, sized for the larger record plus room to detect overlength
const digest = memory.data(32);
const seed = memory.data(32);
/** Public key (32) then device id (16): the `identity` export points here. */
export const identityOut = memory.data(48);
export const publicKey: usize = identityOut;
export const deviceId: usize = identityOut + 32;
export const DEVICE_ID_BYTES: u32 = 16;

let sequenceNext: u64 = 0;
let sequenceReserved: u64 = 0;

export function seedPtr(): usize {
  return seed;
}

export function nextSequence(): u64 {
  return sequenceNext;
}

/** 4-byte check over the first `len` bytes of `record`. */
function check(len: u32): u32 {
  sha256(record, len, digest);
  return load<u32>(digest);
}

function deriveKeys(): void {
  ed25519PublicKey(seed, publicKey);
  sha256(publicKey, 32, digest);
  memory.copy(deviceId, digest, DEVICE_ID_BYTES);
}

/** Loads the identity from slot 0 (returns 0), or creates and persists one on first boot (returns 1). */
export function loadOrCreateIdentity(): i32 {
  const n = hostStorageRead(SLOT_IDENTITY, record, 48);
  if (n == -1) return createIdentity();
  if (n < 0) return E_STORAGE;
  if (n != IDENTITY_RECORD_BYTES || load<u32>(record) != MAGIC_IDENTITY || load<u32>(record + 36) != check(36)) {
    return E_IDENTITY_CORRUPT;
  }
  memory.copy(seed, record + 4, 32);
  deriveKeys();
  return 0;
}

function createIdentity(): i32 {
  if (hostEntropy(seed, 32) < 0) return E_ENTROPY;
  store<u32>(record, MAGIC_IDENTITY);
  memory.copy(record + 4, seed, 32);
  store<u32>(record + 36, check(36));
  if (hostStorageWrite(SLOT_IDENTITY, record, IDENTITY_RECORD_BYTES) < 0) {
    memory.fill(seed, 0, 32);
    return E_STORAGE;
  }
  memory.fill(record, 0, 48); // do not leave the seed in the I/O buffer
  deriveKeys();
  // A slot-1 record left by an earlier identity is still safe to resume from, so it is kept.
  return 1;
}

function writeSequenceMark(mark: u64): i32 {
  store<u32>(record, MAGIC_SEQUENCE);
  store<u64>(record + 4, mark);
  store<u32>(record + 12, check(12));
  return hostStorageWrite(SLOT_SEQUENCE, record, SEQUENCE_RECORD_BYTES) < 0 ? E_STORAGE : 0;
}

/** Resumes the counter at the persisted high-water mark and reserves a first block. */
export function loadSequence(identityIsNew: bool): i32 {
  const n = hostStorageRead(SLOT_SEQUENCE, record, 48);
  let mark: u64 = 0;
  if (n == -1) {
    // No record: right for a new device; for an old identity the counter was lost, and
    // guessing would risk reusing numbers.
    if (!identityIsNew) return E_SEQUENCE_CORRUPT;
  } else if (n < 0) {
    return E_STORAGE;
  } else {
    if (n != SEQUENCE_RECORD_BYTES || load<u32>(record) != MAGIC_SEQUENCE || load<u32>(record + 12) != check(12)) {
      return E_SEQUENCE_CORRUPT;
    }
    mark = load<u64>(record + 4);
    if (mark > SEQUENCE_MAX) return E_SEQUENCE_CORRUPT;
  }
  sequenceNext = mark;
  sequenceReserved = mark;
  return reserveIfNeeded();
}

/** Makes sure `sequenceNext` is covered by a persisted reservation. */
export function reserveIfNeeded(): i32 {
  if (sequenceNext < sequenceReserved) return 0;
  if (sequenceNext >= SEQUENCE_MAX) return E_SEQUENCE_CORRUPT; // exhausted: re-provision
  let mark = sequenceNext + SEQUENCE_BLOCK;
  if (mark > SEQUENCE_MAX) mark = SEQUENCE_MAX;
  const err = writeSequenceMark(mark);
  if (err < 0) return err;
  sequenceReserved = mark;
  return 0;
}

/** Takes the next number; the caller has called reserveIfNeeded() successfully. */
export function takeSequence(): u64 {
  return sequenceNext++;
}
