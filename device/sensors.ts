// The sensor catalog (device/ABI.md "Sensor catalog"): a reading names its sensor by catalog index,
// sent as a one-digit SenML name with no unit (codec/senml.ts). The names and units themselves live
// on the gateway side (shared/sensor-catalog.ts), which expands "0" to "temp"/"Cel" when it decodes;
// test/shared/sensor-catalog.test.ts checks that both sides and device/ABI.md agree.
export const SENSOR_COUNT: i32 = 6;
