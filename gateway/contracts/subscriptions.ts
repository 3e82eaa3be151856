// Which contracts a reading triggers. The chain keeps every subscribed contract with its criteria
// in one state record (contract-subscriptions, at most subscribedContractsMax entries); a block
// builds this index from it once, so a reading costs a few map lookups and a chain without
// subscriptions costs nothing per reading. A reading matches a contract when any criterion does:
// its device, its device's owner, or one of its device's metadata entries (e.g. site=lab).
import { toHex } from "../../shared/ed25519.ts";
import type { Subscription } from "./contract-state.ts";
import type { ReadingView } from "./reading-values.ts";

export class SubscriptionIndex {
  private readonly byKey = new Map<string, Uint8Array[]>();
  readonly empty: boolean;

  /** `subscriptions` ascending by contract id (as stored). */
  constructor(subscriptions: Subscription[]) {
    this.empty = subscriptions.length === 0;
    for (const s of subscriptions) {
      for (const c of s.criteria) {
        const key = c.kind === "device" ? `d/${toHex(c.deviceId)}` : c.kind === "owner" ? `o/${toHex(c.ownerId)}` : `m/${c.key}\u0000${c.value}`;
        const list = this.byKey.get(key) ?? [];
        if (list[list.length - 1] !== s.contractId) list.push(s.contractId);
        this.byKey.set(key, list);
      }
    }
  }

  /** Contracts the reading triggers, each once, ascending by id. */
  match(r: ReadingView): Uint8Array[] {
    if (this.empty) return [];
    const found = new Map<string, Uint8Array>();
    const add = (key: string): void => {
      for (const id of this.byKey.get(key) ?? []) found.set(toHex(id), id);
    };
    add(`d/${toHex(r.deviceId)}`);
    add(`o/${toHex(r.ownerId)}`);
    for (const [k, v] of r.metadata) add(`m/${k}\u0000${v}`);
    return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, id]) => id);
  }
}
