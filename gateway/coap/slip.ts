// SLIP framing (RFC 1055): one CoAP message per frame on a serial line. Pure functions, no I/O.
// END ends a frame, ESC escapes END and ESC inside it (ESC ESC_END, ESC ESC_ESC). The encoder also
// starts every frame with END, as RFC 1055 suggests, so line noise before it becomes an empty frame
// that the decoder drops. The decoder is bounded: a frame over `frameBytesMax` or with a bad escape
// is discarded up to the next END and counted, never buffered without limit.

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

export function slipEncode(frame: Uint8Array): Buffer {
  let extra = 0;
  for (const b of frame) if (b === SLIP_END || b === SLIP_ESC) extra++;
  const out = Buffer.allocUnsafe(frame.length + extra + 2);
  let i = 0;
  out[i++] = SLIP_END;
  for (const b of frame) {
    if (b === SLIP_END) (out[i++] = SLIP_ESC), (out[i++] = SLIP_ESC_END);
    else if (b === SLIP_ESC) (out[i++] = SLIP_ESC), (out[i++] = SLIP_ESC_ESC);
    else out[i++] = b;
  }
  out[i++] = SLIP_END;
  return out;
}

export interface SlipDecoderStats {
  frames: number;
  oversize: number;
  badEscapes: number;
}

/** Incremental decoder: feed it any chunks of the byte stream; it calls `onFrame` per whole frame. */
export class SlipDecoder {
  private readonly buf: Buffer;
  private length = 0;
  private escaped = false;
  /** The current frame is being discarded (too long or bad escape) until the next END. */
  private discarding = false;
  readonly stats: SlipDecoderStats = { frames: 0, oversize: 0, badEscapes: 0 };

  constructor(
    readonly frameBytesMax: number,
    private readonly onFrame: (frame: Buffer) => void,
  ) {
    this.buf = Buffer.allocUnsafe(frameBytesMax);
  }

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      if (b === SLIP_END) {
        this.endFrame();
        continue;
      }
      if (this.discarding) continue;
      let byte = b;
      if (this.escaped) {
        this.escaped = false;
        if (b === SLIP_ESC_END) byte = SLIP_END;
        else if (b === SLIP_ESC_ESC) byte = SLIP_ESC;
        else {
          // RFC 1055 leaves this undefined; a corrupted frame is worse than a lost one.
          this.stats.badEscapes++;
          this.discarding = true;
          continue;
        }
      } else if (b === SLIP_ESC) {
        this.escaped = true;
        continue;
      }
      if (this.length === this.frameBytesMax) {
        this.stats.oversize++;
        this.discarding = true;
        continue;
      }
      this.buf[this.length++] = byte;
    }
  }

  private endFrame(): void {
    if (this.escaped && !this.discarding) this.stats.badEscapes++;
    const complete = !this.discarding && !this.escaped && this.length > 0;
    const frame = complete ? Buffer.from(this.buf.subarray(0, this.length)) : undefined;
    this.length = 0;
    this.escaped = false;
    this.discarding = false;
    if (frame) {
      this.stats.frames++;
      this.onFrame(frame);
    }
  }
}
