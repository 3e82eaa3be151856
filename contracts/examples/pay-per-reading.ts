// Pay-per-reading data purchase. The deployer is the buyer: it sets a price per reading and
// escrows tokens by calling `deposit` with an amount (the contract's balance). For every verified
// reading of the devices it subscribed to (readings reach a contract only once the chain has
// checked their signature and sequence), the contract pays the device's owner `price`, until the
// escrow runs out; then it emits "exhausted" once. The buyer may take the rest back (`withdraw`).
// Gas for each run is paid from the same balance, so the escrow also funds the work.
//
// Storage: "price" (i64), "paid" (readings paid, i64), "out" (1 once exhausted).
// Events: "paid" = owner id (16) ‖ device id (16) ‖ sequence (i64 LE) ‖ price (i64 LE); "exhausted".
import * as mote from "../sdk/mote";

const PRICE = mote.ascii("price");
const PAID = mote.ascii("paid");
const OUT = mote.ascii("out");

function onlyBuyer(): void {
  if (!mote.equalBytes(mote.caller(), mote.owner())) abort();
}

/** input = price per reading, i64 LE (> 0). */
export function configure(): void {
  onlyBuyer();
  const input = mote.input();
  if (input.length != 8 || mote.i64At(input, 0) <= 0) abort();
  mote.set(PRICE, input);
}

/** Adds the call's amount to the escrow (the chain moved it to the contract's balance already). */
export function deposit(): void {
  if (mote.value() <= 0) abort();
  mote.setI64(OUT, 0);
}

/** Returns the whole balance to the buyer and stops paying. */
export function withdraw(): void {
  onlyBuyer();
  mote.transfer(mote.owner(), mote.balance());
  mote.setI64(OUT, 1);
}

export function on_reading(): void {
  const price = mote.getI64(PRICE);
  if (price <= 0 || mote.getI64(OUT) != 0) return;
  const owner = mote.readingOwner();
  if (!mote.transfer(owner, price)) {
    mote.setI64(OUT, 1);
    mote.emit("exhausted", mote.i64Bytes(mote.getI64(PAID)));
    return;
  }
  mote.setI64(PAID, mote.getI64(PAID) + 1);
  const data = mote.concat(mote.concat(owner, mote.readingDevice()), mote.concat(mote.i64Bytes(mote.readingSequence()), mote.i64Bytes(price)));
  mote.emit("paid", data);
}
