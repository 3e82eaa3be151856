// Hourly aggregate per device: count, min, max, sum and mean of the first numeric record of each
// reading, bucketed by the hour the gateway received it. One storage entry per (device, hour):
//
//   key   = "h" ‖ device id (16) ‖ hour (i64 LE, receivedAtMs / 3,600,000)
//   value = count ‖ min ‖ max ‖ sum ‖ mean   (five i64 LE; values in milli-units, mean = sum / count)
//
// Each entry is a key of the chain's state tree (contract/<id>/s/<hex key>), so anyone can read
// an hour's aggregate with a proof against a block's state root (GET /v1/contracts/:id/storage/:key).
import * as mote from "../sdk/mote";

const HOUR_MS: i64 = 3_600_000;

export function on_reading(): void {
  const n = mote.findRecord("temp");
  let i = n;
  if (i < 0) i = 0;
  if (!mote.isNumber(i)) return;
  const v = mote.milli(i);
  const device = mote.readingDevice();
  const key = mote.concat(mote.concat(mote.ascii("h"), device), mote.i64Bytes(mote.readingReceivedMs() / HOUR_MS));
  const old = mote.get(key, 40);
  const agg = new Uint8Array(40);
  if (old === null) {
    mote.putI64(agg, 0, 1);
    mote.putI64(agg, 8, v);
    mote.putI64(agg, 16, v);
    mote.putI64(agg, 24, v);
  } else {
    const count = mote.i64At(old, 0) + 1;
    const min = mote.i64At(old, 8);
    const max = mote.i64At(old, 16);
    mote.putI64(agg, 0, count);
    mote.putI64(agg, 8, v < min ? v : min);
    mote.putI64(agg, 16, v > max ? v : max);
    mote.putI64(agg, 24, mote.i64At(old, 24) + v);
  }
  mote.putI64(agg, 32, mote.i64At(agg, 24) / mote.i64At(agg, 0));
  mote.set(key, agg);
}
