// Test-only entry over the firmware's wire codecs (device/codec/*): the very same functions, exported
// so test/device/codec.test.ts can check them against RFC vectors, independent implementations and
// fuzzed input. Built by `node device/build.mjs harness-codec` with the firmware's flags.

const SCRATCH_BYTES: i32 = 8192;
const scratchArea = memory.data(SCRATCH_BYTES, 16);

/** 8 KiB of static memory for the tests' inputs and outputs. */
export function scratch(): usize {
  return scratchArea;
}

export function scratchBytes(): u32 {
  return <u32>SCRATCH_BYTES;
}

export {
  cborWriterInit, cborHead, cborUint, cborInt, cborBytes, cborText, cborArray, cborMap, cborTag,
  cborFloat, cborBool, cborNull, cborRaw, cborWriterLength,
  cborReaderInit, cborReadHead, cborReadBytes, cborReadText, cborSkip, cborReaderOffset,
  cborReaderRemaining, cborStrict, cborValue, cborAdditional, cborContentPtr,
} from "../codec/cbor";
export { senmlEncodeReading } from "../codec/senml";
export { coseProtectedHeader, coseSigStructure, coseSign1 } from "../codec/cose";
export {
  coapBegin, coapOption, coapOptionUint, coapPayload, coapEnd, coapParse, coapOptionFind,
  coapOptionFindUint, coapOptionAt, coapType, coapCode, coapMid, coapTokenLen, coapTokenPtr, coapPayloadPtr,
  coapPayloadLen, coapContentFormat, coapOptionCount, coapOptionPtr, coapOptionLen,
} from "../codec/coap";
export { slipEncode, slipDecoderInit, slipDecoderFeed } from "../codec/slip";
