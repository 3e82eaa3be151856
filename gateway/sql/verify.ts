// The client's check of a verified SQL answer, trusting only the network's genesis (header and
// validator set, from the genesis file) and commit certificates: not the gateway that answered.
//
//   1. columns   the statement compiled locally (guard.ts sandbox) gives the answer's column names
//                and which view column each one copies; the answer must have exactly those names,
//                and every column must be a plain column of a provable view
//   2. head      the light client (gateway/consensus/light-client.ts) walks the epochs from
//                genesis and checks the head's certificate: its state root is now trusted
//   3. devices   each device record by its sparse Merkle proof against that root
//   4. ranges    for each range the client declared: consecutive log leaves recompute the root of
//                the device's log (its record's frontier), with the witnesses of range-proof.ts
//   5. rows      readings: COSE bytes → digest, device signature under the proven key, the log leaf
//                (audit path, or the range's leaf) → every column equals what is proven;
//                devices: the proven record; blocks: the certified header
//   6. missing   every reading a declared range holds is a row of the answer
//
// Any failure throws SqlVerifyError naming the row (0-based) when one is at fault.
import { decode } from "../../shared/cbor.ts";
import { fromHex, PublicKeyCache } from "../../shared/ed25519.ts";
import { leafHash, verifyInclusion } from "../../shared/merkle.ts";
import { decodeReading, provenKidResolver, readingDigest, verifyReading, type SignedReading } from "../../shared/reading.ts";
import { headerHash, type BlockHeader } from "../chain/block.ts";
import { logRoot, readingLeafData } from "../chain/device-log.ts";
import { stateKey } from "../chain/keys.ts";
import { verifyStateProof } from "../chain/proof.ts";
import { deviceCodec, deviceStatus, type Device, type ReadingRecord, type ValidatorSet } from "../chain/records.ts";
import { decodeCertifiedHeader, LightClient, LightClientError, trustHead } from "../consensus/light-client.ts";
import { SqlVerifyError } from "./errors.ts";
import { StatementGuard } from "./guard.ts";
import { provableGroups, type DeclaredRange, type ProvableGroup, type RangeProofWire, type SqlProof } from "./prove.ts";
import { rangeRoot, rangeWitnessed } from "./range-proof.ts";
import type { RunAnswer, SqlParam, SqlValue } from "./run-statement.ts";

export interface VerifiedAnswerWire extends RunAnswer {
  proof: SqlProof;
}

type TransitionWire = SqlProof["epochs"]["transitions"][number];

export interface VerifyInput {
  sql: string;
  params: SqlParam[];
  /** The ranges the client asked to be proven complete (its own, not the answer's echo). */
  ranges: DeclaredRange[];
  answer: VerifiedAnswerWire;
  genesis: { header: BlockHeader; validators: ValidatorSet };
  /** Pages of /v1/epochs from an epoch on, when the answer's walk is not complete inline. */
  moreTransitions?: (fromEpoch: number) => Promise<{ items: TransitionWire[]; next: number | null }>;
}

export interface VerifyReport {
  height: number;
  rows: number;
  ranges: { device: string; from: number; to: number; readings: number }[];
}

const keys = new PublicKeyCache(1024);
const b = (s: string) => fromHex(s);
const same = (x: Uint8Array, y: Uint8Array) => Buffer.compare(x, y) === 0;

function fail(code: SqlVerifyError["code"], message: string, row?: number): never {
  throw new SqlVerifyError(code, row === undefined ? message : `row ${row}: ${message}`, row);
}

async function trustedHead(input: VerifyInput): Promise<{ header: BlockHeader; lc: LightClient }> {
  const { proof } = input.answer;
  const more = input.moreTransitions ?? (() => fail("VERIFY_HEAD", "the answer's epoch walk is not complete and no gateway was given to page it"));
  let trusted: { header: BlockHeader; lc: LightClient };
  try {
    trusted = await trustHead(input.genesis, proof.epochs, proof.head, more);
  } catch (e) {
    if (e instanceof LightClientError) fail("VERIFY_HEAD", `the head does not check from genesis: ${e.code}: ${e.message}`);
    throw e;
  }
  if (trusted.header.height !== input.answer.height) fail("VERIFY_HEAD", `the proofs are at height ${trusted.header.height}, the answer says it read height ${input.answer.height}`);
  return trusted;
}

function provenDevices(head: BlockHeader, proof: SqlProof): Map<string, Device | null> {
  const out = new Map<string, Device | null>();
  for (const d of proof.devices) {
    const value = d.value === null ? undefined : b(d.value);
    const smt = { siblings: d.siblings.map(b), terminal: d.terminal ? { keyHash: b(d.terminal.keyHash), valueHash: b(d.terminal.valueHash) } : null };
    if (!verifyStateProof(head, stateKey.device(b(d.id)), value, smt)) fail("VERIFY_DEVICE", `device ${d.id}: its record's state proof does not verify against the head's state root`);
    out.set(d.id, value ? deviceCodec.from(decode(value)) : null);
  }
  return out;
}

const leafRecord = (l: { seq: number; digest: string; height: number; gateway: string; receivedMs: number }): ReadingRecord => ({ sequence: l.seq, digest: b(l.digest), height: l.height, gatewayId: b(l.gateway), receivedAtMs: l.receivedMs });

/** Checks one declared range; returns its leaves by log index and the sequences it must see in the answer. */
function checkRange(r: DeclaredRange, p: RangeProofWire | undefined, devices: Map<string, Device | null>): { leaves: Map<number, ReadingRecord>; required: number[] } {
  const what = `range ${r.device} ${r.from}..${r.to}`;
  if (!p) fail("VERIFY_RANGE", `${what}: the answer carries no proof for it`);
  const device = devices.get(r.device);
  if (device === undefined) fail("VERIFY_RANGE", `${what}: the answer carries no proven record of the device`);
  const size = device?.readings ?? 0;
  if (p.size !== size) fail("VERIFY_RANGE", `${what}: proof for a log of ${p.size} leaves, the device's record says ${size}`);
  const leaves = p.leaves.map(leafRecord);
  if (size === 0) return { leaves: new Map(), required: [] };
  const root = rangeRoot(size, p.first, leaves, p.siblings.map(b));
  if (!root || !same(root, logRoot(device!.logFrontier))) fail("VERIFY_RANGE", `${what}: leaves ${p.first}..${p.first + leaves.length - 1} do not recompute the device's log root`);
  const w = rangeWitnessed(size, p.first, leaves, r.from, r.to);
  if (!w.left || !w.right) fail("VERIFY_RANGE", `${what}: the leaves do not reach far enough ${w.left ? "after" : "before"} the range to exclude readings outside them`);
  const byIndex = new Map(leaves.map((l, i) => [p.first + i, l]));
  return { leaves: byIndex, required: leaves.filter((l) => l.sequence >= r.from && l.sequence <= r.to).map((l) => l.sequence) };
}

function expectEqual(row: number, column: string, got: SqlValue, want: SqlValue): void {
  if (got !== want) fail("VERIFY_ROW", `column ${column} is ${JSON.stringify(got)}, the proof says ${JSON.stringify(want)}`, row);
}

const hexOf = (u: Uint8Array) => Buffer.from(u).toString("hex");
const bool = (v: boolean | undefined) => (v === undefined ? null : v ? 1 : 0);

/** What each view column of a reading row must hold. */
function readingColumnValues(reading: SignedReading, record: ReadingRecord, logIndex: number, rec: number): Record<string, SqlValue> {
  const v = reading.records[rec];
  return {
    device: hexOf(reading.deviceId), seq: reading.sequence, received_ms: record.receivedAtMs, height: record.height, gateway: hexOf(record.gatewayId), digest: hexOf(record.digest), log_index: logIndex, rec,
    name: v?.name ?? null, unit: v?.unit ?? null, value: v?.value ?? null, string_value: v?.stringValue ?? null, bool_value: bool(v?.boolValue), time_s: v?.time ?? null,
  };
}

function deviceColumnValues(id: string, d: Device): Record<string, SqlValue> {
  const status = Object.entries(deviceStatus).find(([, n]) => n === d.status)?.[0] ?? null;
  return { id, owner: hexOf(d.owner), public_key: hexOf(d.publicKey), status, last_seq: d.lastSequence, readings: d.readings, enrolled_height: d.enrolledHeight, ttl_days: d.ttlDays, metadata: JSON.stringify(Object.fromEntries(d.metadata)) };
}

function checkColumns(i: number, row: SqlValue[], g: ProvableGroup, columns: { view: string | null; column: string | null }[], want: Record<string, SqlValue>): void {
  columns.forEach((c, k) => {
    if (c.view !== g.view.name) return;
    if (!(c.column! in want)) fail("VERIFY_UNPROVABLE", `column ${c.column} of ${g.view.name} is not covered by its proof`, i);
    expectEqual(i, c.column!, row[k], want[c.column!]);
  });
}

export async function verifyAnswer(input: VerifyInput): Promise<VerifyReport> {
  const { answer } = input;
  const proof = answer.proof;
  const guard = new StatementGuard();
  let columns;
  try {
    columns = guard.check(input.sql, input.params.length).columns;
  } finally {
    guard.close();
  }
  if (JSON.stringify(columns.map((c) => c.name)) !== JSON.stringify(answer.columns)) fail("VERIFY_COLUMNS", `the answer's columns ${JSON.stringify(answer.columns)} are not the statement's ${JSON.stringify(columns.map((c) => c.name))}`);
  const groups = provableGroups(columns, (m) => new SqlVerifyError("VERIFY_UNPROVABLE", m));
  if (input.ranges.length > 0 && answer.truncated) fail("VERIFY_TRUNCATED", "the answer was cut at the row limit: a declared range cannot be complete; narrow the query");
  if (!proof || proof.rows.length !== answer.rows.length) fail("VERIFY_UNPROVABLE", "the answer carries no proof for each row");

  const { header: head, lc } = await trustedHead(input);
  const devices = provenDevices(head, proof);
  const rangeLeaves = new Map<string, Map<number, ReadingRecord>>();
  const required: { device: string; range: DeclaredRange; seqs: number[] }[] = [];
  for (const r of input.ranges) {
    const p = proof.ranges.find((x) => x.device === r.device && x.from === r.from && x.to === r.to);
    const checked = checkRange(r, p, devices);
    const all = rangeLeaves.get(r.device) ?? new Map<number, ReadingRecord>();
    for (const [k, v] of checked.leaves) all.set(k, v);
    rangeLeaves.set(r.device, all);
    required.push({ device: r.device, range: r, seqs: checked.required });
  }

  const seen = new Set<string>();
  answer.rows.forEach((row, i) => {
    const rp = proof.rows[i];
    for (const g of groups) {
      const ids = g.identity.map((k) => row[k]);
      if (g.kind === "reading" || g.kind === "reading-value") {
        const [device, seq] = ids as [string, number];
        const rec = g.kind === "reading-value" ? (ids[2] as number) : 0;
        const p = rp?.reading;
        if (!p) fail("VERIFY_UNPROVABLE", `reading ${device}/${seq} has no proof`, i);
        const d = devices.get(device);
        if (!d) fail("VERIFY_ROW", `device ${device} has no proven record`, i);
        let reading: SignedReading;
        try {
          reading = decodeReading(b(p.cose), provenKidResolver(b(device), d.shortKid));
        } catch (e) {
          return fail("VERIFY_ROW", `its COSE bytes do not decode: ${(e as Error).message}`, i);
        }
        if (rec < 0 || rec >= reading.records.length) fail("VERIFY_ROW", `reading ${device}/${seq} has ${reading.records.length} SenML records, not a record ${rec}`, i);
        if (!verifyReading(reading, keys.get(d.publicKey))) fail("VERIFY_ROW", `the device's signature does not verify under its enrolled key`, i);
        const record: ReadingRecord = { sequence: reading.sequence, digest: readingDigest(reading.bytes), height: p.height, gatewayId: b(p.gateway), receivedAtMs: p.receivedMs };
        const fromRange = rangeLeaves.get(device)?.get(p.logIndex);
        const leaf = leafHash(readingLeafData(record));
        const included = p.path === null ? fromRange !== undefined && same(leafHash(readingLeafData(fromRange)), leaf) : verifyInclusion(leaf, p.logIndex, d.readings, p.path.map(b), logRoot(d.logFrontier));
        if (!included) fail("VERIFY_ROW", `reading ${device}/${seq}: its log leaf is not in the device's log at index ${p.logIndex}`, i);
        checkColumns(i, row, g, columns, readingColumnValues(reading, record, p.logIndex, rec));
        seen.add(`${device}/${seq}`);
      } else if (g.kind === "device") {
        const id = ids[0] as string;
        const d = devices.get(id);
        if (!d) fail("VERIFY_ROW", `device ${id} has no proven record (or the proof says it is not enrolled)`, i);
        checkColumns(i, row, g, columns, deviceColumnValues(id, d));
      } else {
        const p = rp?.block;
        if (!p || !p.certificate) fail("VERIFY_UNPROVABLE", `block ${String(ids[0])} has no header and certificate`, i);
        try {
          const h = decodeCertifiedHeader({ header: b(p.header), certificate: b(p.certificate) });
          lc.checkCertified(h.header, h.certificate);
          checkColumns(i, row, g, columns, { height: h.header.height, hash: hexOf(headerHash(h.header)), previous_hash: hexOf(h.header.previousHash), time_ms: h.header.timeMs });
        } catch (e) {
          if (e instanceof LightClientError) fail("VERIFY_ROW", `block ${String(ids[0])}: ${e.code}: ${e.message}`, i);
          throw e;
        }
      }
    }
  });

  for (const r of required) {
    for (const seq of r.seqs) if (!seen.has(`${r.device}/${seq}`)) fail("VERIFY_MISSING", `device ${r.device} has reading ${seq} on chain inside the declared range ${r.range.from}..${r.range.to}, and the answer does not hold it`);
  }
  return { height: head.height, rows: answer.rows.length, ranges: required.map((r) => ({ device: r.device, from: r.range.from, to: r.range.to, readings: r.seqs.length })) };
}
