// Length-prefixed frames on a TCP stream: a 4-byte big-endian payload length, then the payload (one
// deterministic CBOR item). The decoder refuses a length over the limit before buffering a byte of
// it, so a peer cannot make us allocate more than frameBytesMax per connection.
import { P2pError } from "./errors.ts";

export const frameHeaderBytes = 4;

export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, frameHeaderBytes);
  return out;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1; // payload length of the frame being read, -1 while reading its header

  constructor(readonly frameBytesMax: number) {}

  /** Feeds bytes from the socket; returns the complete frames. Throws P2P_FRAME_TOO_LARGE. */
  push(chunk: Buffer): Uint8Array[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < frameHeaderBytes) break;
        this.need = this.take(frameHeaderBytes).readUInt32BE(0);
        if (this.need > this.frameBytesMax) throw new P2pError("P2P_FRAME_TOO_LARGE", `peer announced a ${this.need}-byte frame; the limit is ${this.frameBytesMax}`);
      }
      if (this.buffered < this.need) break;
      frames.push(new Uint8Array(this.take(this.need)));
      this.need = -1;
    }
    return frames;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return n === 0 ? Buffer.alloc(0) : Buffer.from(out);
  }
}
