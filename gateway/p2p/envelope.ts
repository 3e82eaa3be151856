// What gateways say to each other once a connection is authenticated (handshake.ts): one
// deterministic CBOR item per frame (frame.ts), [kind, body]:
//
//   1 consensus      bstr: a consensus message (shared/consensus-messages.ts), signed by a validator
//   2 status         [tipHeight, tipHash]                    sent periodically and on connect
//   3 syncRequest    [fromHeight, count]                     blocks from fromHeight, at most count
//   4 syncResponse   [[bstr block, certificate]...]          consecutive, ascending, with commit certificates
//   5 tx             bstr: a signed transaction (shared/tx.ts), gossiped towards the next proposers
//   6 syncPruned     [height]                                the answer to a syncRequest whose first block
//                                                            this peer pruned (docs/expiry.md): it cannot serve it
//
// Bodies stay as bytes where their own codec applies limits (consensus messages, transactions).
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { certificateFromCbor, certificateToCbor, type Certificate } from "../../shared/consensus-messages.ts";
import { P2pError } from "./errors.ts";

export const envelopeKind = { consensus: 1, status: 2, syncRequest: 3, syncResponse: 4, tx: 5, syncPruned: 6 } as const;

export interface SyncedBlock {
  block: Uint8Array;
  certificate: Certificate;
}

export type Envelope =
  | { kind: "consensus"; bytes: Uint8Array }
  | { kind: "status"; height: number; hash: Uint8Array }
  | { kind: "syncRequest"; from: number; count: number }
  | { kind: "syncResponse"; blocks: SyncedBlock[] }
  | { kind: "tx"; bytes: Uint8Array }
  | { kind: "syncPruned"; height: number };

/** Blocks in one sync response, whatever the request asked. */
export const syncBlocksPerResponseMax = 64;

export function encodeEnvelope(e: Envelope): Uint8Array {
  switch (e.kind) {
    case "consensus":
    case "tx":
      return encode([envelopeKind[e.kind], e.bytes]);
    case "status":
      return encode([envelopeKind.status, [e.height, e.hash]]);
    case "syncRequest":
      return encode([envelopeKind.syncRequest, [e.from, e.count]]);
    case "syncResponse":
      return encode([envelopeKind.syncResponse, e.blocks.map((b) => [b.block, certificateToCbor(b.certificate)])]);
    case "syncPruned":
      return encode([envelopeKind.syncPruned, [e.height]]);
  }
}

function fail(message: string): never {
  throw new P2pError("P2P_MALFORMED", message);
}

function uint(v: CborValue, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail(`${what} must be an unsigned integer`);
  return v;
}

/** Decodes one frame's payload; `bytesMax` bounds any byte string in it (the frame limit). */
export function decodeEnvelope(bytes: Uint8Array, bytesMax: number): Envelope {
  let v: CborValue;
  try {
    v = decode(bytes, { depthMax: 7, itemsMax: 256, bytesMax });
  } catch (e) {
    return fail(`frame is not deterministic CBOR within limits: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 2) fail("frame must be [kind, body]");
  const [kind, body] = v;
  switch (kind) {
    case envelopeKind.consensus:
    case envelopeKind.tx:
      if (!(body instanceof Uint8Array)) fail("consensus and tx bodies are byte strings");
      return { kind: kind === envelopeKind.tx ? "tx" : "consensus", bytes: body };
    case envelopeKind.status: {
      if (!Array.isArray(body) || body.length !== 2 || !(body[1] instanceof Uint8Array) || body[1].length !== 32) fail("status must be [height, hash of 32 bytes]");
      return { kind: "status", height: uint(body[0], "status height"), hash: body[1] as Uint8Array };
    }
    case envelopeKind.syncRequest: {
      if (!Array.isArray(body) || body.length !== 2) fail("sync request must be [from, count]");
      return { kind: "syncRequest", from: uint(body[0], "from"), count: uint(body[1], "count") };
    }
    case envelopeKind.syncResponse: {
      if (!Array.isArray(body) || body.length > syncBlocksPerResponseMax) fail(`sync response must be a list of at most ${syncBlocksPerResponseMax} blocks`);
      const blocks = body.map((entry): SyncedBlock => {
        if (!Array.isArray(entry) || entry.length !== 2 || !(entry[0] instanceof Uint8Array)) fail("sync response entry must be [block, certificate]");
        return { block: entry[0] as Uint8Array, certificate: certificateFromCbor(entry[1]) };
      });
      return { kind: "syncResponse", blocks };
    }
    case envelopeKind.syncPruned: {
      if (!Array.isArray(body) || body.length !== 1) fail("sync pruned must be [height]");
      return { kind: "syncPruned", height: uint(body[0], "pruned height") };
    }
    default:
      return fail(`unknown frame kind ${String(kind)}`);
  }
}
