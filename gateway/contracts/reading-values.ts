// What a reading-triggered run sees of its reading: the decoded SenML records (shared/senml.ts)
// with numbers as i64 milli-units. Contracts never see a float: the host converts once, here, with
// IEEE-754 double arithmetic that every node performs identically (multiply by 1000, round to the
// nearest integer with ties away from zero).
import type { SenmlRecord } from "../../shared/senml.ts";

export const recordKind = { number: 0, text: 1, boolean: 2, unrepresentable: 3 } as const;

const i64Max = 2 ** 63;

export interface ReadingView {
  deviceId: Uint8Array;
  ownerId: Uint8Array;
  sequence: number;
  receivedAtMs: number;
  records: SenmlRecord[];
  metadata: Map<string, string>;
}

/** A number as i64 milli-units, or undefined when it is not finite or beyond i64. */
export function milliUnits(value: number): bigint | undefined {
  if (!Number.isFinite(value)) return undefined;
  const scaled = value * 1000;
  const rounded = Math.sign(scaled) * Math.round(Math.abs(scaled));
  if (!(Math.abs(rounded) < i64Max)) return undefined;
  return BigInt(rounded);
}

export function recordKindOf(r: SenmlRecord): number {
  if (r.value !== undefined) return milliUnits(r.value) === undefined ? recordKind.unrepresentable : recordKind.number;
  if (r.stringValue !== undefined) return recordKind.text;
  // A data value (a payload anchor's digest, shared/payload-anchor.ts) has no number to give a contract.
  if (r.dataValue !== undefined) return recordKind.unrepresentable;
  return recordKind.boolean;
}

export function recordValue(r: SenmlRecord): bigint {
  if (r.value !== undefined) return milliUnits(r.value) ?? 0n;
  if (r.boolValue !== undefined) return r.boolValue ? 1n : 0n;
  return 0n;
}
