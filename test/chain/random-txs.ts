// A seeded generator of transaction streams, valid and invalid, over a fixture's actors. It reads
// the chain's committed state for nonces and sequences so most valid-looking transactions apply,
// and mixes in every kind of bad input. Deterministic for a given seed and state.
import { encode } from "../../shared/cbor.ts";
import { toHex } from "../../shared/ed25519.ts";
import { encodeReading } from "../../shared/reading.ts";
import { txVersion, type TxBody } from "../../shared/tx.ts";
import type { Chain } from "../../gateway/chain/chain.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { deviceStatus } from "../../gateway/chain/records.ts";
import { minimumFee } from "../../gateway/chain/apply-tx.ts";
import { batchBody, deviceReading, seedIdentity, signed, type Fixture } from "./fixture.ts";

export { rng } from "../support/prng.ts";
import { rng } from "../support/prng.ts";

const kinds = [
  ["transfer", 22],
  ["readingBatch", 22],
  ["stake", 7],
  ["unstake", 6],
  ["vote", 8],
  ["registerCandidate", 2],
  ["enrollDevice", 4],
  ["revokeDevice", 1],
  ["reportDevice", 2],
  ["paramVote", 3],
  ["invalid", 22],
] as const;
const weightTotal = kinds.reduce((s, [, w]) => s + w, 0);

export class TxStream {
  private readonly next: () => number;
  private readonly newDevices: Identity[] = [];
  private nonces = new Map<string, number>();
  private sequences = new Map<string, number>();

  constructor(
    readonly f: Fixture,
    seed: number,
  ) {
    this.next = rng(seed);
  }

  private int(n: number): number {
    return Math.floor(this.next() * n);
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  private amount(max: number): bigint {
    return BigInt(1 + this.int(max));
  }

  private nonce(chain: Chain, who: Identity): number {
    const hex = toHex(who.id);
    const n = this.nonces.get(hex) ?? chain.state().account(who.id).nonce;
    this.nonces.set(hex, n + 1);
    return n;
  }

  /** Signs at the chain's current minimum fee (governance may raise it mid-stream). */
  private sign(chain: Chain, who: Identity, nonce: number, body: TxBody): Uint8Array {
    return signed(chain.chainId, who, nonce, body, minimumFee(body, chain.params()));
  }

  /** The author's next nonce without using it up, for transactions that are certain to fail. */
  private peekNonce(chain: Chain, who: Identity): number {
    return this.nonces.get(toHex(who.id)) ?? chain.state().account(who.id).nonce;
  }

  private sequence(chain: Chain, device: Identity): number {
    const hex = toHex(device.id);
    const s = (this.sequences.get(hex) ?? chain.state().device(device.id)?.lastSequence ?? -1) + 1 + this.int(3);
    this.sequences.set(hex, s);
    return s;
  }

  /** `count` transactions for the next block at `timeMs`, generated against `chain`'s state. */
  block(chain: Chain, count: number, timeMs: number): Uint8Array[] {
    this.nonces = new Map();
    this.sequences = new Map();
    return Array.from({ length: count }, () => this.one(chain, timeMs));
  }

  private one(chain: Chain, timeMs: number): Uint8Array {
    let r = this.int(weightTotal);
    const kind = kinds.find(([, w]) => (r -= w) < 0)![0];
    const f = this.f;
    const people = [...f.users, ...f.gateways, f.owner];
    const who = this.pick(people);
    switch (kind) {
      case "transfer":
        return this.sign(chain, who, this.nonce(chain, who), { kind, to: this.pick(people).id, amount: this.amount(this.int(10) === 0 ? 10_000_000 : 2000) });
      case "stake":
        return this.sign(chain, who, this.nonce(chain, who), { kind, amount: this.amount(3000) });
      case "unstake":
        return this.sign(chain, who, this.nonce(chain, who), { kind, amount: this.amount(1500) });
      case "vote": {
        const candidates = chain.state().candidateIds().filter(() => this.int(2) === 0).slice(0, 1 + this.int(6));
        return this.sign(chain, who, this.nonce(chain, who), { kind, candidates });
      }
      case "registerCandidate":
        return this.sign(chain, who, this.nonce(chain, who), { kind, endpoint: `10.0.0.${this.int(255)}:7400` });
      case "enrollDevice": {
        const d = seedIdentity(`stream/device/${this.newDevices.length}`);
        this.newDevices.push(d);
        return this.sign(chain, f.owner, this.nonce(chain, f.owner), { kind, devicePublicKey: d.publicKey, metadata: new Map([["room", String(this.int(9))]]), ttlDays: this.int(30) });
      }
      case "revokeDevice": {
        const d = this.pick([...f.devices, ...this.newDevices]);
        return this.sign(chain, this.int(4) ? f.owner : who, this.nonce(chain, this.int(4) ? f.owner : who), { kind, deviceId: d.id });
      }
      case "reportDevice": {
        const gw = this.pick(f.gateways);
        return this.sign(chain, gw, this.nonce(chain, gw), { kind, deviceId: this.pick(f.devices).id, evidence: "observed", badSignatures: this.int(5), replays: this.int(5), floods: this.int(5) });
      }
      case "paramVote": {
        const v = this.pick(f.gateways);
        return this.sign(chain, v, this.nonce(chain, v), { kind, name: this.pick(["txFee", "blockReward", "readingFee", "epochBlocks"]), value: BigInt(this.int(4)) });
      }
      case "readingBatch":
        return this.batch(chain, timeMs);
      case "invalid":
        return this.invalid(chain, who, timeMs);
    }
  }

  private batch(chain: Chain, timeMs: number): Uint8Array {
    const gw = this.int(10) === 0 ? this.pick(this.f.users) : this.pick(this.f.gateways); // 1 in 10: not a gateway
    const all = [...this.f.devices, ...this.newDevices];
    const active = all.filter((d) => chain.state().device(d.id)?.status === deviceStatus.active);
    const readings = Array.from({ length: 1 + this.int(6) }, () => {
      // 1 in 60: a device that is revoked, quarantined or not enrolled yet.
      const d = active.length && this.int(60) ? this.pick(active) : this.pick(all);
      const flaw = this.int(25);
      const seq = flaw === 0 ? Math.max(0, (chain.state().device(d.id)?.lastSequence ?? 0) - this.int(2)) : this.sequence(chain, d);
      const signer = flaw === 1 ? this.pick(this.f.devices) : d; // 1 in 25: signed by the wrong key
      const bytes = signer === d ? deviceReading(d, seq, this.int(400) / 8) : deviceReadingAs(signer, d, seq);
      return { bytes, receivedAtMs: timeMs - this.int(500) };
    });
    return this.sign(chain, gw, this.nonce(chain, gw), batchBody(gw, readings));
  }

  private invalid(chain: Chain, who: Identity, timeMs: number): Uint8Array {
    const id = chain.chainId;
    switch (this.int(7)) {
      case 0: {
        const tx = signed(id, who, this.peekNonce(chain, who), { kind: "transfer", to: this.pick(this.f.users).id, amount: 1n });
        tx[tx.length - 1 - this.int(64)] ^= 1 << this.int(8); // mis-signed
        return tx;
      }
      case 1:
        return signed(id, who, chain.state().account(who.id).nonce + 5 + this.int(5), { kind: "stake", amount: 1n }); // wrong nonce
      case 2:
        return Uint8Array.from({ length: 1 + this.int(80) }, () => this.int(256)); // malformed
      case 3:
        return signed(id, who, this.peekNonce(chain, who), { kind: "transfer", to: who.id, amount: 1n }, 0n); // fee too low
      case 4: {
        // Unknown type 99, otherwise well formed and signed.
        const unsigned = encode([txVersion, 99, who.publicKey, 0, 1, [1]]);
        return encode([unsigned, new Uint8Array(64)]);
      }
      case 5: {
        // Oversize: a vote naming 300 candidates is over the 4 KiB limit of small transactions.
        const ids = Array.from({ length: 300 }, (_, i) => Uint8Array.from({ length: 16 }, (_, j) => (i * 7 + j) & 0xff));
        return encode([encode([txVersion, 5, who.publicKey, 0, 1, [ids]]), new Uint8Array(64)]);
      }
      default: {
        // Received an hour after the block's time: the gateway's clock or its claim is wrong.
        const gw = this.pick(this.f.gateways);
        const d = this.pick(this.f.devices);
        const reading = { bytes: deviceReading(d, (chain.state().device(d.id)?.lastSequence ?? 0) + 1000, 1), receivedAtMs: timeMs + 3_600_000 };
        return signed(id, gw, this.peekNonce(chain, gw), batchBody(gw, [reading]));
      }
    }
  }
}

/** A reading claiming to be `claimed`'s, signed with `signer`'s key. */
function deviceReadingAs(signer: Identity, claimed: Identity, seq: number): Uint8Array {
  return encodeReading(signer.key, claimed.id, seq, [{ name: "temp", unit: "Cel", value: 1 }]);
}
