// The consensus WAL file (gateway/consensus/wal-file.ts): the last complete record counts, whatever
// prefix of the appended bytes a crash left; a file of the earlier format loads; the file rotates.
import { afterAll, expect, test } from "vitest";
import fc from "fast-check";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileWalStore, encodeWalFrame, lastWalRecord, walFileName } from "../../gateway/consensus/wal-file.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "mote-wal-"));
  dirs.push(d);
  return d;
};
const record = (i: number, n = 40) => new Uint8Array(n).fill(i & 0xff);

test("saves append; load gives the last record and later saves append after it", () => {
  const dir = tempDir();
  const wal = new FileWalStore(dir);
  expect(wal.load()).toBeUndefined();
  for (let i = 1; i <= 5; i++) wal.save(record(i));
  expect(wal.rotations).toBe(1); // the first save starts the file
  wal.close();
  const again = new FileWalStore(dir);
  expect(again.load()).toEqual(record(5));
  again.save(record(6));
  expect(again.rotations).toBe(0); // appended to the clean file
  again.close();
  expect(new FileWalStore(dir).load()).toEqual(record(6));
});

test("every crash point in the appended bytes loads the last whole record before it, and the next save rewrites past a torn tail", () => {
  const dir = tempDir();
  const wal = new FileWalStore(dir);
  const records = [record(1, 10), record(2, 300), record(3, 1), record(4, 77)];
  for (const r of records) wal.save(r);
  wal.close();
  const path = join(dir, walFileName);
  const whole = readFileSync(path);
  const ends: number[] = [];
  for (let at = 8, i = 0; i < records.length; i++) ends.push((at += 12 + records[i].length));
  // The magic and the first frame appear at once (rename); appended frames can be cut anywhere.
  for (let cut = 8; cut <= whole.length; cut++) {
    writeFileSync(path, whole.subarray(0, cut));
    const complete = ends.filter((e) => e <= cut).length;
    const w = new FileWalStore(dir);
    expect(w.load(), `cut at ${cut}`).toEqual(complete === 0 ? undefined : records[complete - 1]);
    w.save(record(9));
    w.close();
    expect(new FileWalStore(dir).load(), `save after a cut at ${cut}`).toEqual(record(9));
  }
});

test("a corrupted frame ends the log there: the record before it counts", () => {
  const dir = tempDir();
  const wal = new FileWalStore(dir);
  wal.save(record(1));
  wal.save(record(2));
  wal.close();
  const path = join(dir, walFileName);
  const bytes = readFileSync(path);
  bytes[bytes.length - 3] ^= 0x40; // inside the second record
  writeFileSync(path, bytes);
  expect(new FileWalStore(dir).load()).toEqual(record(1));
});

test("a file of the earlier format (one whole record, no magic) loads as that record and is rewritten on the next save", () => {
  const dir = tempDir();
  const legacy = new Uint8Array([0x85, 0x01, 0x05, 0x00, 0xf6, 0x80]);
  writeFileSync(join(dir, walFileName), legacy);
  const wal = new FileWalStore(dir);
  expect(wal.load()).toEqual(legacy);
  wal.save(record(3));
  expect(wal.rotations).toBe(1);
  wal.close();
  expect(readFileSync(join(dir, walFileName)).subarray(0, 8).toString("latin1")).toBe("MOTEWAL2");
  expect(new FileWalStore(dir).load()).toEqual(record(3));
});

test("past rotateBytes the next save starts a new file holding just its record", () => {
  const dir = tempDir();
  const wal = new FileWalStore(dir, 1000);
  for (let i = 0; i < 50; i++) wal.save(record(i, 100));
  expect(wal.rotations).toBeGreaterThan(5);
  expect(statSync(join(dir, walFileName)).size).toBeLessThanOrEqual(1000);
  wal.close();
  expect(new FileWalStore(dir).load()).toEqual(record(49, 100));
});

test("property: any file made of frames, truncated anywhere and followed by garbage, loads the last whole record before the damage", () => {
  const dir = tempDir();
  const path = join(dir, walFileName);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 6 }), fc.nat(), fc.uint8Array({ maxLength: 16 }), (records, cutSeed, garbage) => {
      const frames = records.map((r) => encodeWalFrame(r));
      const file = Buffer.concat([Buffer.from("MOTEWAL2", "latin1"), ...frames]);
      const cut = 8 + (cutSeed % (file.length - 7));
      writeFileSync(path, file.subarray(0, cut));
      if (garbage.length) appendFileSync(path, garbage);
      // The whole frames the damaged file still holds byte for byte: those before the cut, and the
      // next one if the garbage happens to repeat the bytes the cut took (e.g. a cut one byte short
      // and that same byte appended). A different frame made of garbage needs its checksum to hold (2^-64).
      const damaged = readFileSync(path);
      let end = 8;
      let expected: Uint8Array | undefined;
      for (let i = 0; i < frames.length && end + frames[i].length <= damaged.length && Buffer.compare(damaged.subarray(end, end + frames[i].length), frames[i]) === 0; i++) {
        end += frames[i].length;
        expected = records[i];
      }
      const got = lastWalRecord(damaged).record;
      expect(got === undefined ? undefined : Buffer.from(got)).toEqual(expected === undefined ? undefined : Buffer.from(expected));
      truncateSync(path, 0);
    }),
    // The shrunk case that showed the expectation was wrong: a cut one byte into a frame's end, that byte appended again.
    { numRuns: 300, examples: [[[Uint8Array.from([0, 0, 0, 0, 0, 4]), Uint8Array.from([])], 17, Uint8Array.from([4])]] },
  );
});
