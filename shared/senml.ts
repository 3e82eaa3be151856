// SenML (RFC 8428) in its CBOR representation (§6), as the firmware writes it: a pack of records
// with integer labels. Decoding is strict about types and bounded in size; base fields are resolved
// (§4.6) so callers get plain records.
import { CborFloat, type CborValue } from "./cbor.ts";
import { senmlLabel } from "./constants.ts";
import { ReadingError } from "./errors.ts";

export interface SenmlRecord {
  name: string;
  unit?: string;
  value?: number;
  stringValue?: string;
  boolValue?: boolean;
  /** Data value (`vd`, CBOR label 8, RFC 8428 §4.3): opaque bytes; here, a payload's SHA-256 (shared/payload-anchor.ts). */
  dataValue?: Uint8Array;
  /**
   * Content-Format of the data value (`ct`, RFC 9193 §2): a CoAP Content-Format number in decimal or a
   * media type. RFC 9193 assigns no integer label, and RFC 8428 §6 says extensions use text keys: "ct".
   */
  contentFormat?: string;
  /** Seconds; absent means "when received" (§4.5.3). */
  time?: number;
}

export const senmlRecordsMax = 16;

function num(v: CborValue, label: string): number {
  if (v instanceof CborFloat) return v.value;
  if (typeof v === "number") return v;
  throw new ReadingError("SENML_TYPE", `SenML ${label} must be a number`);
}

function text(v: CborValue, label: string): string {
  if (typeof v !== "string") throw new ReadingError("SENML_TYPE", `SenML ${label} must be a text string`);
  return v;
}

/** Resolves a decoded SenML pack (an array of maps) into records. */
export function senmlFromCbor(pack: CborValue): SenmlRecord[] {
  if (!Array.isArray(pack) || pack.length === 0) throw new ReadingError("SENML_SHAPE", "SenML pack must be a non-empty array");
  if (pack.length > senmlRecordsMax) throw new ReadingError("SENML_SIZE", `SenML pack has over ${senmlRecordsMax} records`);
  let baseName = "";
  let baseTime = 0;
  let baseUnit: string | undefined;
  let baseValue = 0;
  return pack.map((entry) => {
    if (!(entry instanceof Map)) throw new ReadingError("SENML_SHAPE", "SenML record must be a map");
    const record: SenmlRecord = { name: "" };
    let values = 0;
    for (const [label, v] of entry) {
      switch (label) {
        case senmlLabel.bn: baseName = text(v, "bn"); break;
        case senmlLabel.bt: baseTime = num(v, "bt"); break;
        case senmlLabel.bu: baseUnit = text(v, "bu"); break;
        case senmlLabel.bv: baseValue = num(v, "bv"); break;
        case senmlLabel.n: record.name = text(v, "n"); break;
        case senmlLabel.u: record.unit = text(v, "u"); break;
        case senmlLabel.v: record.value = num(v, "v"); values++; break;
        case senmlLabel.vs: record.stringValue = text(v, "vs"); values++; break;
        case senmlLabel.vb:
          if (typeof v !== "boolean") throw new ReadingError("SENML_TYPE", "SenML vb must be a boolean");
          record.boolValue = v; values++; break;
        case senmlLabel.vd:
          if (!(v instanceof Uint8Array)) throw new ReadingError("SENML_TYPE", "SenML vd must be a byte string");
          record.dataValue = v; values++; break;
        case senmlLabel.ct: record.contentFormat = text(v, "ct"); break;
        case senmlLabel.t: record.time = num(v, "t"); break;
        default:
          // §4.4: unknown labels ending in "_" must be understood; integer labels we do not know
          // cannot be interpreted safely, so the record is refused rather than misread.
          throw new ReadingError("SENML_LABEL", `SenML label ${String(label)} is not supported`);
      }
    }
    if (values !== 1) throw new ReadingError("SENML_SHAPE", "a SenML record needs exactly one of v, vs, vb, vd");
    // RFC 9193 §2: ct describes a data value; on any other record it would be meaningless.
    if (record.contentFormat !== undefined && record.dataValue === undefined) throw new ReadingError("SENML_SHAPE", "SenML ct is only allowed on a record with vd");
    record.name = baseName + record.name;
    if (!record.name) throw new ReadingError("SENML_SHAPE", "SenML record has no name");
    if (record.unit === undefined && baseUnit !== undefined) record.unit = baseUnit;
    if (record.value !== undefined) record.value += baseValue;
    if (record.time !== undefined || baseTime !== 0) record.time = baseTime + (record.time ?? 0);
    return record;
  });
}

/** Encodes records the way the firmware does: `{0: n, 1: u, 2: v}` with `v` always a float (`vd` and `ct` as given). */
export function senmlToCbor(records: SenmlRecord[]): CborValue {
  return records.map((r) => {
    const m = new Map<CborValue, CborValue>([[senmlLabel.n, r.name]]);
    if (r.unit !== undefined) m.set(senmlLabel.u, r.unit);
    if (r.value !== undefined) m.set(senmlLabel.v, new CborFloat(r.value));
    if (r.stringValue !== undefined) m.set(senmlLabel.vs, r.stringValue);
    if (r.boolValue !== undefined) m.set(senmlLabel.vb, r.boolValue);
    if (r.dataValue !== undefined) m.set(senmlLabel.vd, r.dataValue);
    if (r.contentFormat !== undefined) m.set(senmlLabel.ct, r.contentFormat);
    if (r.time !== undefined) m.set(senmlLabel.t, new CborFloat(r.time));
    return m;
  });
}
