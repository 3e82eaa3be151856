// The Node board's boot loader (hardware/emulator/boot-loader.ts, boot-state.ts) under random input:
// its state record's decoder takes any bytes and only ever answers with a typed error or a state that
// keeps the invariant; random sequences of writes, installs (good, forged, wrong digest, older),
// confirmations, failed trials and power-ons always start a verified image; and the firmware's update
// resources on the serial line take random and mutated requests without a trap.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BootLoader } from "../../hardware/emulator/boot-loader.ts";
import { BootStateError, checkBootState, decodeBootState, encodeBootState, installed, provisioned, type BootState } from "../../hardware/emulator/boot-state.ts";
import { ImageSlots } from "../../hardware/emulator/image-slots.ts";
import { Firmware, LINK_SERIAL } from "../../hardware/emulator/firmware.ts";
import { SlotStore } from "../../hardware/emulator/slot-store.ts";
import { VirtualClock } from "../../hardware/emulator/clock.ts";
import { decodeManifest, verifyImage, verifyManifest } from "../../shared/firmware-manifest.ts";
import { parseMessage, encodeMessage, option, uintValue } from "../../gateway/coap/message.ts";
import { SlipDecoder, slipEncode } from "../../gateway/coap/slip.ts";
import { firmwareImage, makePublisher, manifestFor } from "../support/firmware-images.ts";
import { rng } from "../support/prng.ts";

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const publisher = makePublisher();
const v1 = firmwareImage();

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "mote-boot-"));
}

describe("boot state record", () => {
  const sample: BootState = installed(provisioned(manifestFor(publisher, v1, 1), 1), 1, manifestFor(publisher, v1, 2), 2);

  it("round-trips, and every decoded state keeps the invariant", () => {
    expect(decodeBootState(encodeBootState(sample))).toEqual(sample);
    const decodes = (bytes: Uint8Array) => {
      try {
        checkBootState(decodeBootState(bytes));
      } catch (e) {
        expect(e).toBeInstanceOf(BootStateError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), decodes), { seed, numRuns: 3000 });
    const good = encodeBootState(sample);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 6 }), (edits) => {
        const b = Array.from(good);
        for (const [at, v, cut] of edits) {
          if (cut) b.length = at % (b.length + 1);
          else if (b.length) b[at % b.length] = v;
        }
        decodes(Uint8Array.from(b));
      }),
      { seed, numRuns: 3000 },
    );
  });
});

describe("boot loader under random operations", () => {
  it("starts a verified image at every power-on (40 random histories of 25 steps)", () => {
    const random = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const stranger = makePublisher();
    const other = Uint8Array.from(v1, (b, i) => (i === v1.length - 1 ? b ^ 1 : b)); // same size, other digest
    for (let history = 0; history < 40; history++) {
      const dir = tempDir();
      try {
        let loader = new BootLoader({ dir, publisherKey: publisher.publicKey, factoryImage: v1, factoryManifest: manifestFor(publisher, v1, 1) });
        loader.boot();
        let version = 1;
        for (let step = 0; step < 25; step++) {
          const op = pick(["write", "write", "install", "confirm", "trap", "timeout", "power"]);
          if (op === "write") {
            // A whole image, a prefix, or a block out of order.
            const image = pick([v1, other]);
            const upto = pick([image.length, Math.floor(random() * image.length)]);
            for (let off = 0; off < upto; off += 512) loader.write(off, image.subarray(off, Math.min(off + 512, upto)));
            if (random() < 0.2) loader.write(1024 * Math.floor(random() * 20), v1.subarray(0, 512));
          } else if (op === "install") {
            const next = version + Math.floor(random() * 3) - 1;
            const manifest = pick([manifestFor(publisher, v1, Math.max(1, next)), manifestFor(stranger, v1, version + 1), manifestFor(publisher, other, version + 1), new Uint8Array([1, 2, 3])]);
            loader.install(manifest);
          } else if (op === "confirm") loader.confirm();
          else if (op === "trap") loader.trialFailed("TRAP");
          else if (op === "timeout") loader.trialFailed("UNCONFIRMED");
          if (op === "power" || loader.restartPending) {
            loader = new BootLoader({ dir, publisherKey: publisher.publicKey, factoryImage: v1 });
            const choice = loader.boot();
            // What started is what its manifest says, signed by the publisher.
            const state = new ImageSlots(dir).readState()!;
            checkBootState(state);
            const slot = loader.onTrial ? state.trial!.slot : state.confirmed;
            const signed = decodeManifest(state.manifests[slot]!);
            verifyManifest(signed, publisher.publicKey);
            verifyImage(signed.manifest, choice.image);
            version = choice.version;
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 240_000);
});

describe("the firmware's update resources on the serial line", () => {
  it("take 20,000 random and mutated requests without a trap, and answer only well-formed CoAP", () => {
    const dir = tempDir();
    try {
      const clock = new VirtualClock();
      const loader = new BootLoader({ dir, publisherKey: publisher.publicKey, factoryImage: v1, factoryManifest: manifestFor(publisher, v1, 1) });
      loader.boot();
      const sent: Uint8Array[] = [];
      const fw = new Firmware({ clock, slots: new SlotStore(dir), updates: loader, send: (_l, b) => (sent.push(b), true), log: () => {} }, v1);
      fw.init(LINK_SERIAL);
      const manifest = manifestFor(publisher, v1, 2);
      const request = fc.record({
        code: fc.constantFrom(1, 2, 3, 4),
        path: fc.constantFrom("m", "f", "v", "r", "x", ""),
        block: fc.option(fc.integer({ min: 0, max: 0xffffff })),
        payload: fc.oneof(fc.uint8Array({ maxLength: 700 }), fc.constant(manifest), fc.constant(v1.subarray(0, 1024))),
        con: fc.boolean(),
        cut: fc.nat(),
        flip: fc.nat(),
      });
      fc.assert(
        fc.property(request, (r) => {
          const options = [
            ...(r.path ? [{ number: option.uriPath, value: Buffer.from(r.path) }] : []),
            ...(r.block === null ? [] : [{ number: option.block1, value: uintValue(r.block) }]),
          ];
          const bytes = encodeMessage({ type: r.con ? 0 : 1, code: r.code, messageId: r.flip & 0xffff, token: Buffer.from([1, 2]), options, payload: Buffer.from(r.payload) });
          const damaged = r.cut % 3 === 0 ? bytes.subarray(0, r.cut % (bytes.length + 1)) : bytes;
          if (r.flip % 5 === 0 && damaged.length) damaged[r.flip % damaged.length] ^= 1 << (r.flip % 8);
          sent.length = 0;
          expect(fw.receive(LINK_SERIAL, slipEncode(damaged))).toBeGreaterThanOrEqual(0);
          const frames: Buffer[] = [];
          const decoder = new SlipDecoder(1280, (f) => frames.push(Buffer.from(f)));
          for (const frame of sent) decoder.push(frame);
          expect(frames.length).toBe(sent.length);
          for (const f of frames) parseMessage(f); // throws on anything but well-formed CoAP
        }),
        { seed, numRuns: 20_000 },
      );
      expect(fw.identity().deviceId.length).toBe(16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
