// The sensor catalog (device/ABI.md): index → SenML name and unit (RFC 8428 §12.1 units).
// Kept as one packed ASCII table: "name\0unit\0" per entry.
const CATALOG = "temp\0Cel\0hum\0%RH\0pres\0Pa\0batt\0V\0lux\0lx\0co2\0ppm\0";
export const SENSOR_COUNT: i32 = 6;

const text = memory.data(48); // ASCII copy of CATALOG, filled once
let ready = false;
export let sensorNamePtr: usize = 0;
export let sensorNameLen: u32 = 0;
export let sensorUnitPtr: usize = 0;
export let sensorUnitLen: u32 = 0;

function fill(): void {
  for (let i = 0; i < CATALOG.length; i++) store<u8>(text + i, <u8>CATALOG.charCodeAt(i));
  ready = true;
}

/** Points the sensorName and sensorUnit globals at entry `index`; false outside the catalog. */
export function selectSensor(index: i32): bool {
  if (index < 0 || index >= SENSOR_COUNT) return false;
  if (!ready) fill();
  let p = text;
  for (let i = 0; i < index * 2; i++) {
    while (load<u8>(p) != 0) p++;
    p++;
  }
  sensorNamePtr = p;
  while (load<u8>(p) != 0) p++;
  sensorNameLen = <u32>(p - sensorNamePtr);
  sensorUnitPtr = ++p;
  while (load<u8>(p) != 0) p++;
  sensorUnitLen = <u32>(p - sensorUnitPtr);
  return true;
}
