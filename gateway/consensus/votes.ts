// The votes of one height: prepares, commits and round changes by round and validator. Each
// validator has at most one vote per (round, type) here; a second, different one is a double vote
// and comes back as a conflict (evidence), never replacing the first. Counting is per block hash.
// Memory is bounded by the rounds window the caller prunes to, times the validator count.
import type { Certificate, RoundChange, Vote } from "../../shared/consensus-messages.ts";
import { toHex } from "../../shared/ed25519.ts";
import { assertFailed } from "./errors.ts";

export type AddResult = { kind: "added" } | { kind: "duplicate" } | { kind: "conflict"; previous: Vote };

type ByValidator<T> = Map<number, T>;

export class VoteBook {
  private readonly prepares = new Map<number, ByValidator<Vote>>();
  private readonly commits = new Map<number, ByValidator<Vote>>();
  private readonly roundChanges = new Map<number, ByValidator<RoundChange>>();

  constructor(readonly height: number) {}

  private table(type: Vote["type"]): Map<number, ByValidator<Vote>> {
    return type === "prepare" ? this.prepares : this.commits;
  }

  /** Records a vote whose signature the caller has checked. */
  add(v: Vote): AddResult {
    if (v.height !== this.height) assertFailed(`vote for height ${v.height} filed under ${this.height}`);
    const table = this.table(v.type);
    let round = table.get(v.round);
    if (!round) table.set(v.round, (round = new Map()));
    const previous = round.get(v.validator);
    if (!previous) {
      round.set(v.validator, v);
      return { kind: "added" };
    }
    return Buffer.compare(previous.blockHash, v.blockHash) === 0 ? { kind: "duplicate" } : { kind: "conflict", previous };
  }

  has(type: Vote["type"], round: number, validator: number): boolean {
    return this.table(type).get(round)?.has(validator) ?? false;
  }

  count(type: Vote["type"], round: number, blockHash: Uint8Array): number {
    let n = 0;
    for (const v of this.table(type).get(round)?.values() ?? []) if (Buffer.compare(v.blockHash, blockHash) === 0) n++;
    return n;
  }

  /** (round, hash) pairs that reached `quorum` votes of `type`, lowest round first. */
  quorums(type: Vote["type"], quorum: number): { round: number; blockHash: Uint8Array }[] {
    const out: { round: number; blockHash: Uint8Array }[] = [];
    for (const [round, votes] of [...this.table(type)].sort((a, b) => a[0] - b[0])) {
      const counts = new Map<string, { n: number; hash: Uint8Array }>();
      for (const v of votes.values()) {
        const key = toHex(v.blockHash);
        const c = counts.get(key) ?? { n: 0, hash: v.blockHash };
        c.n++;
        counts.set(key, c);
      }
      for (const c of counts.values()) if (c.n >= quorum) out.push({ round, blockHash: c.hash });
    }
    return out;
  }

  /** A certificate of exactly `quorum` votes (the lowest ids), or undefined if short. `ids` maps index → id. */
  certificate(type: Vote["type"], round: number, blockHash: Uint8Array, quorum: number, ids: readonly Uint8Array[]): Certificate | undefined {
    const votes = [...(this.table(type).get(round)?.values() ?? [])]
      .filter((v) => Buffer.compare(v.blockHash, blockHash) === 0)
      .map((v): [Uint8Array, Uint8Array] => [ids[v.validator], v.signature])
      .sort((a, b) => Buffer.compare(a[0], b[0]))
      .slice(0, quorum);
    if (votes.length < quorum) return undefined;
    return { height: this.height, round, blockHash, votes };
  }

  /** Records a round change whose signature and certificate the caller has checked. First one wins. */
  addRoundChange(rc: RoundChange): boolean {
    let round = this.roundChanges.get(rc.round);
    if (!round) this.roundChanges.set(rc.round, (round = new Map()));
    if (round.has(rc.validator)) return false;
    round.set(rc.validator, rc);
    return true;
  }

  roundChangesFor(round: number): RoundChange[] {
    return [...(this.roundChanges.get(round)?.values() ?? [])];
  }

  /** Each validator's highest round-change round. */
  highestRoundChanges(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [round, byValidator] of this.roundChanges) {
      for (const validator of byValidator.keys()) out.set(validator, Math.max(out.get(validator) ?? -1, round));
    }
    return out;
  }

  /** Forgets rounds outside [low, high]: the window bounds memory whatever peers send. */
  prune(low: number, high: number): void {
    for (const table of [this.prepares, this.commits, this.roundChanges] as Map<number, unknown>[]) {
      for (const round of table.keys()) if (round < low || round > high) table.delete(round);
    }
  }
}

/**
 * The f+1 rule: when at least `weakQuorum` validators have sent round changes beyond `current`, an
 * honest one is among them, so join the highest round that many of them reached.
 */
export function roundToJoin(highest: Map<number, number>, current: number, weakQuorum: number): number | undefined {
  const ahead = [...highest.values()].filter((r) => r > current).sort((a, b) => b - a);
  return ahead.length >= weakQuorum ? ahead[weakQuorum - 1] : undefined;
}
