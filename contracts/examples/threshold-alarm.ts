// Threshold alarm with hysteresis on a device's temperature. Per device it keeps one state bit:
// normal → alarm when the temperature reaches `high`, alarm → normal when it falls to `low` or
// below (low < high), so a reading wobbling around one threshold raises one alarm, not many.
// Events: "alarm" and "clear", data = device id (16) ‖ value in milli-degrees (i64 LE).
//
// configure(input = high i64 LE ‖ low i64 LE), by the deployer only. Until configured it is quiet.
import * as mote from "../sdk/mote";

const CONFIG = mote.ascii("cfg");

export function configure(): void {
  if (!mote.equalBytes(mote.caller(), mote.owner())) abort();
  const input = mote.input();
  if (input.length != 16) abort();
  if (mote.i64At(input, 8) >= mote.i64At(input, 0)) abort(); // low must be below high
  mote.set(CONFIG, input);
}

export function on_reading(): void {
  const cfg = mote.get(CONFIG, 16);
  if (cfg === null) return;
  const i = mote.findRecord("temp");
  if (i < 0 || !mote.isNumber(i)) return;
  const temp = mote.milli(i);
  const device = mote.readingDevice();
  const key = mote.concat(mote.ascii("s"), device);
  const alarmed = mote.getI64(key) != 0;
  if (!alarmed && temp >= mote.i64At(cfg, 0)) {
    mote.setI64(key, 1);
    mote.emit("alarm", mote.concat(device, mote.i64Bytes(temp)));
  } else if (alarmed && temp <= mote.i64At(cfg, 8)) {
    mote.setI64(key, 0);
    mote.emit("clear", mote.concat(device, mote.i64Bytes(temp)));
  }
}
