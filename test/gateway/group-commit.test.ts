// The group commit's window: readings that come within commitDelayMs of a group's first share its
// commit (one signature, one transaction), a full group or the chain side's deadline (commitBy)
// closes it early, and every reading is answered only once durable. Real SQLite files, real timers.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { readingDigest } from "../../shared/reading.ts";
import { InlineCommitWriter, type CommitWriter } from "../../gateway/ingest/commit-writer.ts";
import { identityFromSeed } from "../../gateway/ingest/gateway-identity.ts";
import { GroupCommit, type GroupCommitOptions } from "../../gateway/ingest/group-commit.ts";
import { MisbehaviourCounters } from "../../gateway/ingest/misbehaviour.ts";
import { PendingStore, type AcceptedReading } from "../../gateway/ingest/pending-store.ts";
import { tempDir, TestDevice } from "../support/gateway-fixtures.ts";

const cleanup: (() => Promise<void> | void)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A group commit over a real pending store, counting the commits its writer carries out. */
function groupCommit(options: Partial<GroupCommitOptions>, writeDelayMs = 0): { commits: GroupCommit; written: AcceptedReading[][]; started: number[]; ended: number[]; next: () => AcceptedReading } {
  const dir = tempDir();
  const store = PendingStore.open(dir.path);
  const inline = new InlineCommitWriter(store);
  const written: AcceptedReading[][] = [];
  const started: number[] = [];
  const ended: number[] = [];
  const writer: CommitWriter = {
    commit: async (readings, attestation, counters) => {
      if (readings.length === 0) return inline.commit(readings, attestation, counters);
      written.push(readings);
      started.push(Date.now());
      await sleep(writeDelayMs);
      const id = await inline.commit(readings, attestation, counters);
      ended.push(Date.now());
      return id;
    },
    close: () => inline.close(),
  };
  const commits = new GroupCommit(writer, identityFromSeed(new Uint8Array(32).fill(9)), new MisbehaviourCounters(), { batchReadingsMax: 64, commitDelayMs: 0, commitGroupReadings: 64, countersFlushMs: 60_000, queueReadingsMax: 1000, ...options }, pino({ level: "silent" }));
  cleanup.push(() => dir.remove(), () => store.close(), () => commits.close());
  const device = new TestDevice();
  const next = (): AcceptedReading => {
    const cose = device.reading();
    return { deviceId: device.deviceId, sequence: device.nextSequence - 1, digest: readingDigest(cose), cose, receivedAtMs: Date.now() };
  };
  return { commits, written, started, ended, next };
}

describe("GroupCommit window", () => {
  it("commits readings that come within the window of the group's first together", async () => {
    const { commits, written, next } = groupCommit({ commitDelayMs: 300 });
    const first = commits.submit(next());
    await sleep(40);
    const second = commits.submit(next());
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(written.map((w) => w.length)).toEqual([2]);
  });

  it("without a window, a reading of a later turn gets a commit of its own", async () => {
    const { commits, written, next } = groupCommit({ commitDelayMs: 0 });
    const a = await commits.submit(next());
    const b = await commits.submit(next());
    expect(b).toBeGreaterThan(a);
    expect(written.map((w) => w.length)).toEqual([1, 1]);
  });

  it("closes the window at commitBy, so a reading is durable when the chain side takes readings", async () => {
    const { commits, written, next } = groupCommit({ commitDelayMs: 60_000 });
    const by = Date.now() + 50;
    commits.commitBy = () => by;
    await commits.submit(next());
    // Durable by the deadline (give or take the timer and the fsync), not a minute later.
    expect(Date.now()).toBeLessThan(by + 5_000);
    expect(written).toHaveLength(1);
  });

  it("commits at once when commitBy has passed", async () => {
    const { commits, next } = groupCommit({ commitDelayMs: 60_000 });
    commits.commitBy = () => Date.now() - 1;
    const started = Date.now();
    await commits.submit(next());
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a full group does not wait out its window", async () => {
    const { commits, written, next } = groupCommit({ commitDelayMs: 60_000, batchReadingsMax: 3 });
    const ids = await Promise.all([commits.submit(next()), commits.submit(next()), commits.submit(next())]);
    expect(new Set(ids).size).toBe(1);
    expect(written.map((w) => w.length)).toEqual([3]);
  });

  it("a group with commitGroupReadings readings commits at once, and those queued behind it follow without waiting", async () => {
    // The first commit takes 300 ms; the 5 readings queued meanwhile are enough (4) to go at once
    // when it ends, though their window is a minute.
    const { commits, written, started, ended, next } = groupCommit({ commitDelayMs: 60_000, commitGroupReadings: 4, batchReadingsMax: 8 }, 300);
    const first = Array.from({ length: 4 }, () => commits.submit(next()));
    await sleep(50);
    const second = Array.from({ length: 5 }, () => commits.submit(next()));
    await Promise.all([...first, ...second]);
    expect(written.map((w) => w.length)).toEqual([4, 5]);
    expect(started[1] - ended[0]).toBeLessThan(1_000);
  });

  it("the window counts from the oldest reading waiting: readings queued behind a slow commit do not wait it out again", async () => {
    // The first commit takes 1.5 s; a reading queued meanwhile has waited past its 400 ms window
    // when that commit ends, so its own commit starts then, not 400 ms later.
    const { commits, written, started, ended, next } = groupCommit({ commitDelayMs: 400 }, 1_500);
    const first = commits.submit(next());
    await sleep(600); // the first group closed at 400 ms and is being written
    const second = commits.submit(next());
    await Promise.all([first, second]);
    expect(written.map((w) => w.length)).toEqual([1, 1]);
    expect(started[1] - ended[0]).toBeLessThan(200);
  });

  it("close commits what waits in an open window and answers it", async () => {
    const { commits, written, next } = groupCommit({ commitDelayMs: 60_000 });
    const pending = commits.submit(next());
    await commits.close();
    await expect(pending).resolves.toBeTypeOf("number");
    expect(written).toHaveLength(1);
  });
});
