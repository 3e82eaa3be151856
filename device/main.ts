// Moteledger firmware: the exports a board calls (device/ABI.md). Everything is static; the host
// drives the firmware with init, reading, receive and tick, and reads its state with identity/stat.
import { E_BAD_ARGUMENT, E_BUSY, E_MALFORMED, E_NOT_INITIALIZED } from "./errors";
import { hostEntropy, LINK_RADIO, LINK_SERIAL, LOG_INFO } from "./host";
import { identityOut, deviceId, DEVICE_ID_BYTES, loadOrCreateIdentity, loadSequence, nextSequence, reserveIfNeeded, takeSequence } from "./identity";
import { outboxClear, outboxFull, outboxPush, outboxTail, MESSAGE_BYTES_MAX } from "./outbox";
import { buildSignedReading } from "./signed-reading";
import { SENSOR_COUNT } from "./sensors";
import { shortKidLoad } from "./short-kid";
import { exchangeReset, exchangeReceive, exchangeTick } from "./exchange";
import { updateReset } from "./update";
import { FRAME_BYTES_MAX, linkReset, serialFeed, slipFrame } from "./link";
import { count, counter, resetCounters, COUNTERS, READINGS_SIGNED, RX_MALFORMED, SEQUENCE_NEXT } from "./stats";
import { logStart, logHex, logText, logU64, logEnd } from "./log";

// The end of static data, exported so WAMR can shrink linear memory to what the firmware really
// uses (the module cannot grow memory): the firmware's whole working RAM is below this address.
// device/build.mjs adds __data_end and a dedicated first stack-pointer global (device/ABI.md).
export { __heap_base };

const rxBuffer = memory.data(<i32>FRAME_BYTES_MAX);
const seedBytes = memory.data(4);
let initialized = false;

export function init(link: i32): i32 {
  initialized = false;
  if (link != LINK_RADIO && link != LINK_SERIAL) return E_BAD_ARGUMENT;
  resetCounters();
  outboxClear();
  linkReset();
  const loaded = loadOrCreateIdentity();
  if (loaded < 0) return loaded;
  const err = loadSequence(loaded == 1);
  if (err < 0) return err;
  shortKidLoad();
  if (hostEntropy(seedBytes, 4) < 0) store<u32>(seedBytes, <u32>nextSequence() ^ load<u32>(deviceId));
  exchangeReset(link, load<u32>(seedBytes));
  updateReset();
  initialized = true;
  logStart(loaded == 1 ? "new identity " : "identity ");
  logHex(deviceId, DEVICE_ID_BYTES);
  logText(" seq ");
  logU64(nextSequence());
  logEnd(LOG_INFO);
  return 0;
}

export function identity(): usize {
  return identityOut;
}

export function reading(sensor: i32, value: f64): i64 {
  if (!initialized) return E_NOT_INITIALIZED;
  if (sensor < 0 || sensor >= SENSOR_COUNT || !isFinite(value)) return E_BAD_ARGUMENT;
  if (outboxFull()) return E_BUSY;
  const err = reserveIfNeeded();
  if (err < 0) return err;
  const sequence = takeSequence();
  const len = buildSignedReading(outboxTail(), MESSAGE_BYTES_MAX, <u32>sensor, value, sequence);
  if (len < 0) return E_BAD_ARGUMENT; // the number is skipped, never reused
  outboxPush(<u32>len);
  count(READINGS_SIGNED);
  exchangeTick(); // transmit now if the link is free
  return <i64>sequence;
}

export function rx_buffer(): usize {
  return rxBuffer;
}

export function receive(link: i32, len: i32): i32 {
  if (!initialized) return E_NOT_INITIALIZED;
  if (len < 0 || <u32>len > FRAME_BYTES_MAX || (link != LINK_RADIO && link != LINK_SERIAL)) return E_BAD_ARGUMENT;
  if (link == LINK_RADIO) return exchangeReceive(link, rxBuffer, <u32>len) ? 1 : E_MALFORMED;
  let handled: i32 = 0;
  for (let i: i32 = 0; i < len; i++) {
    const frameLen = serialFeed(load<u8>(rxBuffer + i));
    if (frameLen < 0) count(RX_MALFORMED);
    else if (frameLen > 0 && exchangeReceive(link, slipFrame(), <u32>frameLen)) handled++;
  }
  return handled;
}

export function tick(): i32 {
  if (!initialized) return -1;
  return exchangeTick();
}

export function stat(index: i32): i64 {
  if (index == SEQUENCE_NEXT) return <i64>nextSequence();
  if (index < 0 || index >= COUNTERS) return -1;
  return counter(index);
}
