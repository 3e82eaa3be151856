// Per-device anti-replay window over the signed sequence number (the COSE Partial IV), shaped like
// OSCORE's replay window (RFC 8613 §7.4.1) and IPsec's (RFC 4303 §3.4.3): the highest accepted
// number plus a bitmap of the `size` numbers at and below it. Numbers may arrive out of order
// (an 8-reading outbox, retransmissions) or with gaps (the firmware skips the rest of a reserved
// block after a reboot), so anything above the top or inside the window and unseen is new.

export type WindowVerdict = "new" | "seen" | "stale";

export const replayWindowSizeMax = 64;

export class ReplayWindow {
  /** Highest accepted sequence number, -1 before the first. */
  private top = -1;
  /** Bit i set = top - i accepted. */
  private bits = 0n;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1 || size > replayWindowSizeMax) throw new RangeError(`replay window size must be 1..${replayWindowSizeMax}`);
  }

  get highest(): number {
    return this.top;
  }

  check(seq: number): WindowVerdict {
    if (seq > this.top) return "new";
    const age = this.top - seq;
    if (age >= this.size) return "stale";
    return (this.bits >> BigInt(age)) & 1n ? "seen" : "new";
  }

  /**
   * Records `seq` as accepted. A number that fell below the window while it was being committed
   * (newer ones overtook it) needs no bit: "stale" sends the caller to the store, which has it.
   */
  mark(seq: number): void {
    if (seq > this.top) {
      const shift = seq - this.top;
      this.bits = shift >= this.size ? 1n : ((this.bits << BigInt(shift)) | 1n) & this.mask();
      this.top = seq;
      return;
    }
    const age = this.top - seq;
    if (age >= this.size) return;
    this.bits |= 1n << BigInt(age);
  }

  private mask(): bigint {
    return (1n << BigInt(this.size)) - 1n;
  }
}
