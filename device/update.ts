// Firmware updates, the application's half (docs/firmware-update.md, device/ABI.md "Updates").
// The firmware only transports an image into the inactive slot: pulled with Block2 from its
// gateway over the radio, or pushed with Block1 over serial (RFC 7959). Whether it may run is the
// boot loader's decision (fw_install verifies manifest, signature, digest and version), so no
// application image can switch verification off.
import { hostFwConfirm, hostFwInstall, hostFwState, hostFwWrite, LOG_INFO, LOG_WARN } from "./host";
import { sha256 } from "./crypto/sha256";
import { cborWriterInit, cborArray, cborUint, cborWriterLength } from "./codec/cbor";
import { coapOptionFind, coapOptionFindUint, coapOptionPtr, coapPayloadLen, coapPayloadPtr,
  COAP_OPTION_BLOCK1, COAP_OPTION_BLOCK2, COAP_OPTION_URI_PATH, COAP_GET, COAP_PUT,
  COAP_BAD_REQUEST, COAP_CHANGED, COAP_CONTENT, COAP_CONTINUE, COAP_FORBIDDEN, COAP_NOT_FOUND,
  COAP_INTERNAL_SERVER_ERROR, COAP_METHOD_NOT_ALLOWED, COAP_PRECONDITION_FAILED,
  COAP_REQUEST_ENTITY_INCOMPLETE, COAP_REQUEST_ENTITY_TOO_LARGE } from "./codec/coap";
import { logStart, logHex, logU64, logEnd } from "./log";

/** shared/firmware-manifest.ts manifestBytesMax: the largest manifest is 223 bytes. */
export const MANIFEST_BYTES_MAX: u32 = 256;
/** Block size the device asks for over the radio (SZX 5, RFC 7959 §2.2). */
const PULL_SZX: u32 = 5;
/** Largest Block1 size taken over serial (SZX 6 = 1,024): a block plus headers fits a frame. */
const PUSH_SZX_MAX: u32 = 6;
const IMAGE_ID_BYTES: u32 = 8;

// fw_install's refusals that are the manifest's fault (the others are DIGEST = 2, a bad transfer).
const REASON_DIGEST: i32 = 2;

const manifest = memory.data(<i32>MANIFEST_BYTES_MAX);
let manifestLen: u32 = 0;
/** Bytes of the current manifest's image written into the inactive slot, in order. */
let received: u32 = 0;
/** A radio pull is in progress (a manifest came with a gateway's answer). */
let pulling = false;
/** Hex image id of the manifest being pulled: the Uri-Path segment of GET /f/<id>. */
export const imageIdHex = memory.data(<i32>(2 * IMAGE_ID_BYTES));
const digest = memory.data(32);
/** Image id of the last manifest the boot loader refused, so a gateway's repeated offer is ignored. */
const refusedId = memory.data(<i32>IMAGE_ID_BYTES);
/** fw_state: running version, trial (0/1), last failed version, its reason (u32 each). */
const fwState = memory.data(16);
let confirmed = false;

export function updateReset(): void {
  reportPending = true; // every boot tells the chain which version runs
  installDue = false;
  manifestLen = 0;
  received = 0;
  pulling = false;
  memory.fill(refusedId, 0, IMAGE_ID_BYTES); // init is a reset: a refused offer may be tried again
  hostFwState(fwState);
  confirmed = load<u32>(fwState, 4) == 0;
}

export function runningVersion(): u32 {
  return load<u32>(fwState);
}

export function failedVersion(): u32 {
  return load<u32>(fwState, 8);
}

export function failureReason(): u32 {
  return load<u32>(fwState, 12);
}

/** A gateway acknowledged a reading: an image on trial has shown it works, so it stays. */
export function updateConfirm(): void {
  if (confirmed) return;
  confirmed = hostFwConfirm() == 0;
  if (confirmed) {
    logStart("fw confirmed v");
    logU64(runningVersion());
    logEnd(LOG_INFO);
  }
}

/** Image id = SHA-256(manifest)[0..8] (docs/firmware-update.md), into `digest`. */
function hashManifest(ptr: usize, len: u32): void {
  sha256(ptr, len, digest);
}

function takeManifest(ptr: usize, len: u32): bool {
  if (len == 0 || len > MANIFEST_BYTES_MAX) return false;
  if (len == manifestLen && memory.compare(ptr, manifest, len) == 0) return true;
  memory.copy(manifest, ptr, len);
  manifestLen = len;
  received = 0;
  hashManifest(manifest, len);
  for (let i: u32 = 0; i < IMAGE_ID_BYTES; i++) {
    const b = <u32>load<u8>(digest + i);
    store<u8>(imageIdHex + 2 * i, hexDigit(b >> 4));
    store<u8>(imageIdHex + 2 * i + 1, hexDigit(b & 15));
  }
  return true;
}

@inline function hexDigit(d: u32): u8 {
  return <u8>(d < 10 ? 48 + d : 87 + d);
}

// ---------------------------------------------------------------------------------------------------
// Radio: the gateway offers a manifest with its answer to a reading; the device pulls with Block2.

/** Called with the payload of a gateway's 2.xx answer to a reading: an update offer. */
export function updateOffer(ptr: usize, len: u32): void {
  if (pulling || installDue || len > MANIFEST_BYTES_MAX) return;
  hashManifest(ptr, len);
  if (memory.compare(digest, refusedId, IMAGE_ID_BYTES) == 0) return;
  if (!takeManifest(ptr, len)) return;
  pulling = true;
  logStart("fw offer ");
  logHex(digest, IMAGE_ID_BYTES);
  logEnd(LOG_INFO);
}

export function updatePulling(): bool {
  return pulling;
}

/** Block2 option value of the next block to ask for (RFC 7959 §2.2: NUM, M = 0, SZX). */
export function updateNextBlock2(): u32 {
  return ((received >> (PULL_SZX + 4)) << 4) | PULL_SZX;
}

/**
 * The gateway answered a block request (the last parsed message). Returns false when the pull
 * should back off and ask again later (the gateway was busy); true when the exchange is settled.
 */
export function updateBlockAnswer(code: u8): bool {
  const cls = code >> 5;
  if (cls == 5 || code == 0x9d) return false; // 5.xx or 4.29: try the same block later
  const block = coapOptionFindUint(COAP_OPTION_BLOCK2, 0);
  if (code != COAP_CONTENT || block < 0) {
    abandon();
    return true;
  }
  const size: u32 = 16 << (<u32>block & 7);
  const offset = (<u32>block >> 4) * size;
  if (offset == received && coapPayloadLen > 0 && coapPayloadLen <= size) {
    if (hostFwWrite(<i32>received, coapPayloadPtr, <i32>coapPayloadLen) < 0) {
      abandon();
      return true;
    }
    received += coapPayloadLen;
    if ((block & 8) == 0) {
      pulling = false;
      installDue = true; // once no reading waits: a restart loses what the outbox holds
    }
  }
  // A block at another offset (a server that chose its own size) is asked again from `received`.
  return true;
}

function abandon(): void {
  pulling = false;
  logStart("fw pull stopped at ");
  logU64(received);
  logEnd(LOG_WARN);
}

/** The last block of a pull is in; the install waits for the outbox to empty (updateInstallIfDue). */
let installDue = false;

/** Called when the link is idle and no reading waits: installs a pulled image now. */
export function updateInstallIfDue(): void {
  if (!installDue) return;
  installDue = false;
  install();
}

/** Hands the manifest to the boot loader; on success the host boots the new image on trial. */
function install(): i32 {
  const rc = hostFwInstall(manifest, <i32>manifestLen);
  hostFwState(fwState);
  if (rc < 0) {
    hashManifest(manifest, manifestLen);
    if (rc != -REASON_DIGEST) memory.copy(refusedId, digest, IMAGE_ID_BYTES);
    logStart("fw refused, reason ");
    logU64(<u64>-rc);
    logEnd(LOG_WARN);
    reportPending = true;
  }
  manifestLen = 0;
  received = 0;
  return rc;
}

/**
 * Set while the chain has not heard which firmware runs (after boot, after a refused install). Every
 * reading signed while it is set carries the firmware records, and only a gateway's acknowledgement
 * of one of them clears it (exchange.ts): a report in a reading that was refused (say, by a gateway
 * whose head has not yet seen this device's enrollment) is carried again by the next one.
 */
export let reportPending = false;

/** A gateway acknowledged a reading that carried the firmware records: the report is on its way to the chain. */
export function updateReported(): void {
  reportPending = false;
}

// ---------------------------------------------------------------------------------------------------
// Serial: a flashing tool is the client; the device serves PUT /m, PUT /f (Block1) and GET /v.

/** Response of the last handled request: code, Block1 option (or -1), CBOR payload length. */
export let answerCode: u8 = 0;
export let answerBlock1: i64 = -1;
export let answerPayloadLen: u32 = 0;
export const answerPayload = memory.data(32);

/** Handles a request whose Uri-Path is one segment (ptr, len); sets answer*. */
export function updateServe(method: u8, pathPtr: usize, pathLen: i32): void {
  answerBlock1 = -1;
  answerPayloadLen = 0;
  const segment: u32 = pathLen == 1 ? <u32>load<u8>(pathPtr) : 0;
  if (coapOptionFind(COAP_OPTION_URI_PATH, 1) >= 0 || segment == 0) {
    answerCode = COAP_NOT_FOUND;
  } else if (segment == 0x76) { // "v"
    answerCode = method == COAP_GET ? COAP_CONTENT : COAP_METHOD_NOT_ALLOWED;
  } else if (segment == 0x6d) { // "m"
    answerCode = method != COAP_PUT ? COAP_METHOD_NOT_ALLOWED : servePutManifest();
  } else if (segment == 0x66) { // "f"
    answerCode = method != COAP_PUT ? COAP_METHOD_NOT_ALLOWED : servePutBlock();
  } else {
    answerCode = COAP_NOT_FOUND;
  }
  if (answerCode == COAP_CONTENT || answerCode == COAP_CHANGED || answerCode == COAP_BAD_REQUEST || answerCode == COAP_FORBIDDEN) {
    writeStatus();
  }
}

function servePutManifest(): u8 {
  if (!takeManifest(coapPayloadPtr, coapPayloadLen)) return COAP_REQUEST_ENTITY_TOO_LARGE;
  pulling = false; // the cable wins over the radio
  installDue = false;
  return COAP_CHANGED;
}

function servePutBlock(): u8 {
  if (manifestLen == 0) return COAP_PRECONDITION_FAILED; // PUT /m first
  const block = coapOptionFindUint(COAP_OPTION_BLOCK1, 0);
  if (block < 0) return COAP_BAD_REQUEST;
  const szx = <u32>block & 7;
  if (szx > PUSH_SZX_MAX) return COAP_REQUEST_ENTITY_TOO_LARGE;
  const size: u32 = 16 << szx;
  const more = (block & 8) != 0;
  const offset = (<u32>block >> 4) * size;
  answerBlock1 = block;
  if (offset + coapPayloadLen <= received && coapPayloadLen > 0) return more ? COAP_CONTINUE : COAP_CHANGED; // a repeat
  if (offset != received || (more && coapPayloadLen != size) || coapPayloadLen == 0) {
    answerBlock1 = -1;
    return COAP_REQUEST_ENTITY_INCOMPLETE;
  }
  if (hostFwWrite(<i32>received, coapPayloadPtr, <i32>coapPayloadLen) < 0) {
    answerBlock1 = -1;
    return COAP_INTERNAL_SERVER_ERROR;
  }
  received += coapPayloadLen;
  if (more) return COAP_CONTINUE;
  const rc = install();
  if (rc == 0) return COAP_CHANGED;
  answerBlock1 = -1;
  return rc == -REASON_DIGEST ? COAP_BAD_REQUEST : COAP_FORBIDDEN;
}

/** [running version, trial, bytes received, failed version, failure reason] (docs/firmware-update.md). */
function writeStatus(): void {
  cborWriterInit(answerPayload, 32);
  cborArray(5);
  cborUint(<u64>runningVersion());
  cborUint(<u64>load<u32>(fwState, 4));
  cborUint(<u64>received);
  cborUint(<u64>failedVersion());
  cborUint(<u64>failureReason());
  answerPayloadLen = <u32>cborWriterLength();
}
