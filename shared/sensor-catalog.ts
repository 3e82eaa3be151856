// The sensor catalog (device/ABI.md "Sensor catalog"): catalog index → SenML name and unit
// (RFC 8428 §12.1 units). A compact reading (shared/reading.ts, format 2) names its measurement by
// the index as a one-character SenML name ("0".."5") and leaves the unit out (RFC 8428 §4.5.1 makes
// "u" optional): the catalog fixes both, and decodeReading expands them back, so every consumer
// downstream (index, API, SQL, contracts) sees "temp"/"Cel" whichever format the device sent.
// The firmware's device/sensors.ts and this table are checked against each other by
// test/shared/sensor-catalog.test.ts.
import { ReadingError } from "./errors.ts";
import type { SenmlRecord } from "./senml.ts";

export interface CatalogEntry {
  name: string;
  unit: string;
}

export const sensorCatalog: readonly CatalogEntry[] = [
  { name: "temp", unit: "Cel" },
  { name: "hum", unit: "%RH" },
  { name: "pres", unit: "Pa" },
  { name: "batt", unit: "V" },
  { name: "lux", unit: "lx" },
  { name: "co2", unit: "ppm" },
];

/** The compact SenML name of catalog entry `index`: its decimal digit. */
export function compactName(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= sensorCatalog.length) throw new RangeError(`sensor ${index} is not in the catalog`);
  return String(index);
}

const isDigitName = (name: string): boolean => name.length === 1 && name >= "0" && name <= "9";

/**
 * A compact record as the gateway indexes it: a one-digit name becomes the catalog's name and unit.
 * A digit outside the catalog, or a digit name with its own unit, is refused (a device cannot give a
 * catalog measurement another unit). Other records (the firmware's "fw" reports) pass unchanged.
 */
export function expandCompactRecord(r: SenmlRecord): SenmlRecord {
  if (!isDigitName(r.name)) return r;
  const entry = sensorCatalog[r.name.charCodeAt(0) - 48];
  if (!entry) throw new ReadingError("SENML_CATALOG", `SenML name "${r.name}" is not a sensor catalog index (0-${sensorCatalog.length - 1})`);
  if (r.unit !== undefined) throw new ReadingError("SENML_CATALOG", `catalog record "${r.name}" must not carry a unit: the catalog fixes it (${entry.unit})`);
  return { ...r, name: entry.name, unit: entry.unit };
}

/** The inverse, for host-side signers: a catalog name with its catalog unit becomes the compact record. */
export function compactRecord(r: SenmlRecord): SenmlRecord {
  const index = sensorCatalog.findIndex((e) => e.name === r.name && e.unit === r.unit);
  if (index < 0) return r;
  const { unit: _unit, ...rest } = r;
  return { ...rest, name: compactName(index) };
}
