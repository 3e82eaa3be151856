// CoAP client for readings (RFC 7252): one confirmable request at a time (NSTART = 1, §4.7),
// retransmitted with exponential back-off (§4.2), matched by message id; the token is empty
// (§5.3.1 allows it: with one request outstanding a separate response can only answer that one,
// and one is taken only after the gateway's empty ACK announced it),
// piggybacked (§5.2.1) or separate (§5.2.2) responses, duplicate detection (§4.5). The request is
// a reading's POST /r or, when no reading waits, the next block of an update pull (update.ts);
// requests from a flashing tool on the serial line are served by update.ts.
import { coapBegin, coapOption, coapOptionUint, coapPayload, coapEnd, coapParse,
  coapType, coapCode, coapMid, coapTokenLen, coapTokenPtr, coapContentFormat, coapOptionFind, coapOptionPtr,
  coapPayloadPtr, coapPayloadLen,
  COAP_CON, COAP_NON, COAP_ACK, COAP_RST, COAP_GET, COAP_POST, COAP_OPTION_URI_PATH, COAP_OPTION_CONTENT_FORMAT,
  COAP_OPTION_BLOCK1, COAP_OPTION_BLOCK2, COAP_FORMAT_COSE_SIGN1, COAP_UNAUTHORIZED, COAP_NOT_FOUND } from "./codec/coap";
import { reserveIfNeeded, takeSequence } from "./identity";
import { carriesFirmwareReport, resignReading, signedUnderShortKid } from "./signed-reading";
import { shortKidForget, shortKidLearn } from "./short-kid";
import { answerBlock1, answerCode, answerPayload, answerPayloadLen, imageIdHex, updateBlockAnswer,
  updateConfirm, updateInstallIfDue, updateNextBlock2, updateOffer, updatePulling, updateReported, updateServe } from "./update";
import { hostNowMs, LINK_SERIAL, LOG_INFO, LOG_WARN } from "./host";
import { linkSend } from "./link";
import { outboxHead, outboxHeadLength, outboxPop, outboxSetHeadLength, outboxSize, MESSAGE_BYTES_MAX } from "./outbox";
import { count, EXCHANGES_GAVE_UP, MESSAGES_SENT, READINGS_ACKED, READINGS_REJECTED, RETRANSMISSIONS, RX_DUPLICATES, RX_MALFORMED } from "./stats";
import { logStart, logText, logU64, logEnd } from "./log";

// §4.8 transmission parameters.
const ACK_TIMEOUT_MS: i64 = 2000;
const MAX_RETRANSMIT: i32 = 4;
/** MAX_TRANSMIT_WAIT (§4.8.2): how long to wait for a separate response after an empty ACK. */
const RESPONSE_TIMEOUT_MS: i64 = 93_000;
/** After giving up (or a 5.xx/4.29), the reading stays queued and is tried again this much later. */
export const RETRY_BACKOFF_MS: i64 = 30_000;

const CODE_TOO_MANY_REQUESTS: u8 = 0x9d; // 4.29
/** Short-Kid (gateway/coap/message.ts option.shortKid): experimental range, RFC 7252 §12.2. */
const OPTION_SHORT_KID: u16 = 65000;

const IDLE: i32 = 0;
const WAIT_ACK: i32 = 1; // CON sent, retransmitting until ACK/RST/response
const WAIT_RESPONSE: i32 = 2; // empty ACK received, waiting for the separate response
const BACKOFF: i32 = 3; // exchange failed, retry at deadline

let state: i32 = 0; // IDLE (a literal, so no start function is needed to set it)
let link: i32 = 0;
let deadline: i64 = 0;
let timeoutMs: i64 = 0;
let retransmits: i32 = 0;
let mid: u16 = 0;
let messageLen: u32 = 0;
let rng: u32 = 1;
/** Message ids of NON answers: apart from `mid`, which must keep naming the exchange in flight. */
let answerMid: u16 = 0;
/** The request in flight is a block of an update pull, not a reading. */
let sendingBlock = false;

const message = memory.data(256); // the CON request, kept for retransmission
const REPLY_BYTES_MAX: u32 = 64;
const reply = memory.data(<i32>REPLY_BYTES_MAX); // ACK/RST answers, and update.ts's small responses
const APPLICATION_CBOR: u32 = 60; // Content-Format of update.ts's status (RFC 8949 §9.5)
const tokenBytes = memory.data(8);
const URI_PATH_FIRMWARE = memory.data<u8>([0x66]); // "f": GET /f/<image id> (docs/firmware-update.md)

// Message ids of server CON messages already answered (§4.5), with the answer's type and code,
// so a duplicate gets the same answer again.
const SEEN_MAX: u32 = 4;
const seen = memory.data(<i32>(SEEN_MAX * 4)); // u16 mid, u8 type, u8 code
let seenCount: u32 = 0;
let seenNext: u32 = 0;

/** Starts the client after boot. `seed` seeds message ids, tokens and the timer jitter. */
export function exchangeReset(readingLink: i32, seed: u32): void {
  link = readingLink;
  rng = seed | 1;
  mid = <u16>random();
  answerMid = <u16>random();
  state = IDLE;
  seenCount = 0;
}

function random(): u32 {
  // xorshift32: jitter and id spreading only, never secrets.
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

/** Starts the next exchange if one is due; returns ms until the next deadline or -1 if idle. */
export function exchangeTick(): i32 {
  const now = hostNowMs();
  if (state == WAIT_ACK && now >= deadline) {
    if (retransmits < MAX_RETRANSMIT) {
      retransmits++;
      timeoutMs <<= 1;
      deadline = now + timeoutMs;
      count(RETRANSMISSIONS);
      linkSend(link, message, messageLen);
    } else {
      giveUp("no ACK, retrying later", now);
    }
  } else if (state == WAIT_RESPONSE && now >= deadline) {
    giveUp("no response, retrying later", now);
  } else if (state == BACKOFF && now >= deadline) {
    state = IDLE;
  }
  if (state == IDLE && outboxSize() == 0) updateInstallIfDue(); // the host restarts after this call
  if (state == IDLE && (outboxSize() > 0 || updatePulling())) start(now);
  if (state == IDLE) return -1;
  const wait = deadline - now;
  return wait < 0 ? 0 : <i32>wait;
}

function giveUp(why: string, now: i64): void {
  count(EXCHANGES_GAVE_UP);
  logStart(why);
  logEnd(LOG_WARN);
  backoff(now);
}

function backoff(now: i64): void {
  state = BACKOFF;
  deadline = now + RETRY_BACKOFF_MS;
}

function start(now: i64): void {
  mid++;
  // Readings first: an update waits for a moment when no reading does.
  sendingBlock = outboxSize() == 0;
  if (sendingBlock) {
    coapBegin(message, 256, COAP_CON, COAP_GET, mid, 0, 0);
    coapOption(COAP_OPTION_URI_PATH, URI_PATH_FIRMWARE, 1);
    coapOption(COAP_OPTION_URI_PATH, imageIdHex, 16);
    coapOptionUint(COAP_OPTION_BLOCK2, updateNextBlock2());
  } else {
    // POST / (the gateway's root resource takes readings): no Uri-Path, no Content-Format (the
    // payload's COSE tag 18 says what it is), no token: 4 bytes of header, then the reading.
    coapBegin(message, 256, COAP_CON, COAP_POST, mid, 0, 0);
    coapPayload(outboxHead(), outboxHeadLength());
  }
  const len = coapEnd();
  if (len < 0) {
    // Cannot happen for readings the outbox accepted; drop it rather than wedge the queue.
    if (!sendingBlock) outboxPop();
    return;
  }
  messageLen = <u32>len;
  // §4.2: initial timeout random in [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR].
  timeoutMs = ACK_TIMEOUT_MS + <i64>(random() % <u32>(ACK_TIMEOUT_MS / 2 + 1));
  deadline = now + timeoutMs;
  retransmits = 0;
  state = WAIT_ACK;
  count(MESSAGES_SENT);
  linkSend(link, message, messageLen);
}

function tokenMatches(): bool {
  return coapTokenLen == 0;
}

/** Handles one received CoAP message from link `from`; false if it was not valid CoAP (counted). */
export function exchangeReceive(from: i32, ptr: usize, len: u32): bool {
  if (coapParse(ptr, len) < 0) {
    count(RX_MALFORMED);
    return false;
  }
  const type = coapType;
  const code = coapCode;
  const now = hostNowMs();
  if (type == COAP_ACK || type == COAP_RST) {
    if (state != WAIT_ACK || coapMid != mid) {
      count(RX_DUPLICATES); // a late or repeated ACK for an exchange already settled
      return true;
    }
    if (type == COAP_RST) {
      settleRetry("gateway reset the exchange", now);
      return true;
    }
    if (code == 0) {
      state = WAIT_RESPONSE; // §5.2.2: empty ACK, the response follows separately
      deadline = now + RESPONSE_TIMEOUT_MS;
      return true;
    }
    if (tokenMatches()) settle(code, now);
    return true;
  }
  // CON or NON from the gateway, or a request from a flashing tool.
  const isResponse = code >= 0x40;
  if (code > 0 && code < 0x20) {
    serve(from, type, code); // PUT is idempotent and update.ts answers repeats alike: no dedup needed
    return true;
  }
  if (type == COAP_CON && answerDuplicate(from)) return true;
  if (isResponse && state == WAIT_RESPONSE && tokenMatches()) {
    // A separate response (§5.2.2), taken only once the gateway's empty ACK said one will come: with
    // empty tokens any token-less response would match, and noise on a serial line must not settle
    // (or back off) a reading. One that overtakes a lost empty ACK is refused with RST below; the
    // request is retransmitted, and the gateway answers the duplicate again.
    if (type == COAP_CON) answer(from, COAP_ACK, 0);
    settle(code, now);
  } else if (type == COAP_CON) {
    // §4.2: a CON we cannot process is rejected with RST; a request (or ping) for a resource
    // this firmware does not have gets 4.04 piggybacked.
    answer(from, COAP_RST, 0);
  }
  return true;
}

/** A request (update.ts's resources): a piggybacked answer to a CON, a NON answer to a NON. */
function serve(from: i32, type: u8, code: u8): void {
  // Only a cable reaches the update resources: a radio neighbour cannot disturb a pull.
  const pathLen = from == LINK_SERIAL ? coapOptionFind(COAP_OPTION_URI_PATH, 0) : -1;
  updateServe(code, coapOptionPtr, pathLen);
  const tokenLen = coapTokenLen;
  store<u64>(tokenBytes, load<u64>(coapTokenPtr)); // the token survives update.ts's parsing
  coapBegin(reply, REPLY_BYTES_MAX, type == COAP_CON ? COAP_ACK : COAP_NON, answerCode, type == COAP_CON ? coapMid : ++answerMid, tokenBytes, tokenLen);
  // Options in ascending number (§3.1): Content-Format 12 before Block1 27.
  if (answerPayloadLen > 0) coapOptionUint(COAP_OPTION_CONTENT_FORMAT, APPLICATION_CBOR);
  if (answerBlock1 >= 0) coapOptionUint(COAP_OPTION_BLOCK1, <u32>answerBlock1);
  if (answerPayloadLen > 0) coapPayload(answerPayload, answerPayloadLen);
  const len = coapEnd();
  if (len > 0) linkSend(from, reply, <u32>len);
}

function settle(code: u8, now: i64): void {
  if (sendingBlock) {
    if (updateBlockAnswer(code)) state = IDLE;
    else settleRetry("gateway busy, retrying later", now);
    return;
  }
  const cls = code >> 5;
  const shortKid = signedUnderShortKid(outboxHead());
  if (cls == 2) {
    count(READINGS_ACKED);
    // A reading under the long kid may be answered with the short kid to use from now on.
    if (!shortKid) {
      const kidLen = coapOptionFind(OPTION_SHORT_KID, 0); // sets coapOptionPtr
      shortKidLearn(coapOptionPtr, kidLen);
    }
    if (carriesFirmwareReport(outboxHead())) updateReported();
    outboxPop();
    state = IDLE;
    updateConfirm();
    if (coapPayloadLen > 0 && coapContentFormat == <i32>COAP_FORMAT_COSE_SIGN1) updateOffer(coapPayloadPtr, coapPayloadLen);
  } else if (shortKid && (code == COAP_UNAUTHORIZED || code == COAP_NOT_FOUND)) {
    // The gateway does not know our short kid, or it names another device: forget it and sign the
    // values again under the device id, with a new sequence number (never the refused one).
    shortKidForget();
    const len = reserveIfNeeded() < 0 ? -1 : resignReading(outboxHead(), MESSAGE_BYTES_MAX, takeSequence());
    if (len < 0) outboxPop();
    else outboxSetHeadLength(<u32>len);
    state = IDLE;
  } else if (cls == 4 && code != CODE_TOO_MANY_REQUESTS) {
    // The gateway refused this reading for good (bad signature, replay, unknown device…).
    count(READINGS_REJECTED);
    logStart("reading refused, code ");
    logU64(cls);
    logText(".");
    logU64(code & 31);
    logEnd(LOG_WARN);
    outboxPop();
    state = IDLE;
  } else {
    settleRetry("gateway busy, retrying later", now);
  }
}

function settleRetry(why: string, now: i64): void {
  logStart(why);
  logEnd(LOG_INFO);
  backoff(now);
}

/** If this CON's message id was answered before, answers it the same way again (§4.5). */
function answerDuplicate(from: i32): bool {
  for (let i: u32 = 0; i < seenCount; i++) {
    const p = seen + i * 4;
    if (load<u16>(p) == coapMid) {
      count(RX_DUPLICATES);
      sendReply(from, load<u8>(p + 2), load<u8>(p + 3));
      return true;
    }
  }
  return false;
}

function answer(from: i32, type: u8, code: u8): void {
  const p = seen + seenNext * 4;
  store<u16>(p, coapMid);
  store<u8>(p + 2, type);
  store<u8>(p + 3, code);
  seenNext = (seenNext + 1) % SEEN_MAX;
  if (seenCount < SEEN_MAX) seenCount++;
  sendReply(from, type, code);
}

function sendReply(from: i32, type: u8, code: u8): void {
  // Empty ACK/RST carry no token (§4.1); a piggybacked response echoes the request's token.
  const tokenLen = code == 0 ? 0 : coapTokenLen;
  coapBegin(reply, 16, type, code, coapMid, coapTokenPtr, tokenLen);
  const len = coapEnd();
  if (len > 0) linkSend(from, reply, <u32>len);
}

export function exchangeIdle(): bool {
  return state == IDLE;
}
