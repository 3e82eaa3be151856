// Device records stay objects in the state overlays until the block's writes are flushed
// (gateway/chain/state.ts StateOverlay.setRecord): what a transaction sees and what the block
// commits must be exactly what encoding on every write gave, with forks dropped or merged.
import { expect, it } from "vitest";
import { encode } from "../../shared/cbor.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { deviceCodec, deviceStatus, type Device } from "../../gateway/chain/records.ts";
import { emptyWindow, windowRecord } from "../../gateway/chain/sequence-window.ts";
import { State } from "../../gateway/chain/state.ts";

const id = new Uint8Array(16).fill(7);
const key = stateKey.device(id);
const device = (): Device => ({ owner: new Uint8Array(16).fill(1), publicKey: new Uint8Array(32).fill(2), status: deviceStatus.active, lastSequence: -1, metadata: new Map([["site", "lab"]]), ttlDays: 0, enrolledHeight: 0, readings: 0, evidence: 0, logFrontier: [], window: emptyWindow(), statusSinceMs: 0, shortKid: Uint8Array.of(0, 1) });
const bytesOf = (d: Device): string => Buffer.from(encode(deviceCodec.to(d))).toString("hex");

it("a dropped fork leaves nothing; a merged one reaches the block as the encoding of its last write", () => {
  const stored = new Map<string, Uint8Array>([[key, encode(deviceCodec.to(device()))]]);
  const block = new State({ get: (k) => stored.get(k) });

  const dropped = block.fork();
  const d1 = dropped.device(id)!;
  d1.status = deviceStatus.revoked;
  dropped.setDevice(id, d1);
  expect(block.device(id)!.status).toBe(deviceStatus.active);

  const merged = block.fork();
  const d2 = merged.device(id)!;
  const w = { last: d2.lastSequence, window: d2.window };
  windowRecord(w, 5);
  d2.lastSequence = w.last;
  d2.readings = 1;
  merged.setDevice(id, d2);
  block.merge(merged);

  // A later fork gets a copy: changing it (the window in place included) changes nothing until set.
  const peek = block.fork().device(id)!;
  windowRecord({ last: peek.lastSequence, window: peek.window }, 3);
  peek.readings = 99;
  const expected = { ...device(), lastSequence: 5, readings: 1, window: (() => { const x = { last: -1, window: emptyWindow() }; windowRecord(x, 5); return x.window; })() };
  expect(bytesOf(block.device(id)!)).toBe(bytesOf(expected));

  // Bytes read through the overlay and the flushed writes are that encoding.
  expect(Buffer.from(block.overlay.get(key)!).toString("hex")).toBe(bytesOf(expected));
  const writes = block.overlay.flush();
  expect([...writes.keys()]).toEqual([key]);
  expect(Buffer.from(writes.get(key)!).toString("hex")).toBe(bytesOf(expected));
});

it("a byte write after a deferred one wins, and a deferred one after bytes wins", () => {
  const s = new State({ get: () => undefined });
  s.setDevice(id, device());
  s.overlay.set(key, null);
  expect(s.device(id)).toBeUndefined();
  expect(s.overlay.flush().get(key)).toBeNull();
  const d = device();
  d.evidence = 2;
  s.setDevice(id, d);
  expect(s.device(id)!.evidence).toBe(2);
  expect(Buffer.from(s.overlay.flush().get(key)!).toString("hex")).toBe(bytesOf(d));
});
