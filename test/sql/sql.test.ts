// SQL over the index (issue 13 item 3): hostile statements refused by SQLite's own judgement or
// stopped by the limits (a killed runner process); verified answers pass from the genesis file alone;
// a changed row, a forged reading or a reading dropped from a declared device range fails with the row
// named. Through the engine, the HTTP route and the `mote sql` command.
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { createApiServer, SoloConsensusSource, type ApiServer } from "../../gateway/api/index.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import { SqlError, SqlVerifyError } from "../../gateway/sql/errors.ts";
import type { DeclaredRange } from "../../gateway/sql/prove.ts";
import type { SqlParam } from "../../gateway/sql/run-statement.ts";
import { SqlService, type SqlAnswer } from "../../gateway/sql/service.ts";
import { verifyAnswer, type VerifiedAnswerWire } from "../../gateway/sql/verify.ts";
import { client } from "../api/http.ts";
import { sqlChain, type SqlChain } from "./fixture.ts";

let c: SqlChain;
let sql: SqlService;
let api: ApiServer;
let dev: string[];
const inOrder = 3000; // device 0: sequences 0..2999 in order (wider than the 1,024 witness gap)

beforeAll(async () => {
  c = sqlChain({ devices: 3 });
  dev = c.devices.map((d) => toHex(d.id));
  for (let b = 0; b < inOrder / 500; b++) c.block(Array.from({ length: 500 }, (_, k) => ({ device: 0, seq: b * 500 + k })));
  // Device 1 out of order: each block's sequences reversed, and 40..49 only after 50..99.
  c.block(Array.from({ length: 40 }, (_, k) => ({ device: 1, seq: 39 - k })));
  c.block(Array.from({ length: 50 }, (_, k) => ({ device: 1, seq: 50 + k })));
  c.block(Array.from({ length: 10 }, (_, k) => ({ device: 1, seq: 40 + k })));
  // Device 2: several SenML records per reading, a string and a boolean.
  c.block([
    { device: 2, seq: 7, records: [{ name: "temp", unit: "Cel", value: 21.5 }, { name: "door", stringValue: "open" }, { name: "alarm", boolValue: true }] },
    { device: 2, seq: 8, records: [{ name: "temp", unit: "Cel", value: 21.75 }] },
  ]);
  sql = new SqlService(c.chain, { timeMs: 1500, rowsMax: 100, runners: 2, memoryBytesMax: 200 * 1024 * 1024 });
  await sql.warm();
  api = await createApiServer({ chain: c.chain, mempool: new Mempool(c.chain), consensus: new SoloConsensusSource(c.chain, c.devices[0].id) });
}, 120_000);
afterAll(async () => {
  sql?.close();
  await api?.close();
  c?.chain.store.close();
  if (c) rmSync(c.dir, { recursive: true, force: true });
});

const code = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: SqlError | SqlVerifyError) => e.code);
const trust = () => {
  const g = c.trust();
  return { header: g.header, validators: g.validators };
};
async function verify(statement: string, params: SqlParam[], ranges: DeclaredRange[], answer: SqlAnswer | VerifiedAnswerWire) {
  return verifyAnswer({ sql: statement, params, ranges, answer: answer as VerifiedAnswerWire, genesis: trust() });
}

describe("hostile statements", () => {
  const refused: [string, string][] = [
    ["INSERT INTO readings (device, seq) VALUES (x'00', 1)", "SQL_NOT_SELECT"],
    ["UPDATE readings SET value = 0", "SQL_NOT_SELECT"],
    ["DELETE FROM readings", "SQL_NOT_SELECT"],
    ["DROP TABLE readings", "SQL_NOT_SELECT"],
    ["CREATE TABLE t (x)", "SQL_NOT_SELECT"],
    ["PRAGMA table_info(readings)", "SQL_NOT_SELECT"],
    ["PRAGMA query_only = 0", "SQL_NOT_SELECT"],
    ["ATTACH DATABASE '/tmp/x.sqlite' AS x", "SQL_NOT_SELECT"],
    ["BEGIN", "SQL_NOT_SELECT"],
    ["EXPLAIN SELECT * FROM readings", "SQL_NOT_SELECT"],
    ["SELECT 1; DELETE FROM readings", "SQL_MULTIPLE"],
    ["SELECT 1; SELECT 2", "SQL_MULTIPLE"],
    ["SELECT * FROM sqlite_master", "SQL_NAME"],
    ["SELECT * FROM sqlite_temp_master", "SQL_NAME"],
    ["SELECT * FROM main.readings", "SQL_NAME"],
    ["SELECT * FROM state", "SQL_NAME"],
    ["SELECT * FROM smt_nodes", "SQL_NAME"],
    ["SELECT * FROM pragma_table_info('readings')", "SQL_VIRTUAL_TABLE"],
    ["SELECT * FROM json_each('[1,2]')", "SQL_VIRTUAL_TABLE"],
    ["SELECT zeroblob(1000000000)", "SQL_FUNCTION"],
    ["SELECT length(randomblob(1000000000))", "SQL_FUNCTION"],
    ["SELECT printf('%.*c', 1000000000, 'x')", "SQL_FUNCTION"],
    ["SELECT load_extension('/tmp/evil.so')", "SQL_FUNCTION"],
    ["SELECT mote_device(x'00', 'owner')", "SQL_FUNCTION"],
    ["SELEC 1", "SQL_SYNTAX"],
    ["", "SQL_EMPTY"],
  ];
  it.each(refused)("%s → %s", async (statement, expected) => {
    expect(await code(sql.query({ sql: statement }))).toBe(expected);
  });

  it("parameters must match the statement's ? placeholders", async () => {
    expect(await code(sql.query({ sql: "SELECT * FROM readings WHERE seq = ?", params: [] }))).toBe("SQL_PARAMS");
    expect(await code(sql.query({ sql: "SELECT * FROM readings WHERE seq = ?", params: [1, 2] }))).toBe("SQL_PARAMS");
    expect(await code(sql.query({ sql: "SELECT * FROM readings WHERE seq = :s", params: [1] }))).toBe("SQL_PARAMS");
  });

  it("a recursive CTE bomb and a huge cross join are stopped at the time limit (runner killed), and the next statement runs", async () => {
    for (const bomb of ["WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", "SELECT count(*) FROM readings a, readings b, readings c, readings d"]) {
      const t0 = performance.now();
      expect(await code(sql.query({ sql: bomb }))).toBe("SQL_TIMEOUT");
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(1500);
      expect(ms).toBeLessThan(4000);
    }
    expect(sql.killed).toBe(2);
    expect((await sql.query({ sql: "SELECT count(*) FROM readings" })).rows).toEqual([[inOrder + 100 + 2]]);
  }, 30_000); // two kills, then new runners start (about 1 s each from the sources, more under load)

  it("an allocation past the runner process memory limit is SQL_MEMORY; rows past the limit are cut (truncated)", async () => {
    // hex() is allowed and doubles its input: nested 28 times it asks for 256 MiB (on top of 128) in
    // a runner limited to 200 MiB, which fails at 2^27 bytes in about 0.6 s.
    const big = `SELECT length(${"hex(".repeat(28)}'x'${")".repeat(28)})`;
    expect(await code(sql.query({ sql: big }))).toBe("SQL_MEMORY");
    const a = await sql.query({ sql: "SELECT seq FROM readings WHERE device = ? ORDER BY seq", params: [{ hex: dev[0] }] });
    expect(a.rows.length).toBe(100);
    expect(a.truncated).toBe(true);
  }, 20_000);
});

describe("answers", () => {
  it("the views: decoded values, every record, devices, blocks, transactions", async () => {
    const r = await sql.query({ sql: "SELECT seq, name, unit, value FROM readings WHERE device = ? AND seq = ?", params: [{ hex: dev[0] }, 8] });
    expect(r.rows).toEqual([[8, "temp", "Cel", 22]]);
    const v = await sql.query({ sql: "SELECT rec, name, unit, value, string_value, bool_value FROM reading_values WHERE device = unhex(?) AND seq = 7 ORDER BY rec", params: [dev[2]] });
    expect(v.rows).toEqual([[0, "temp", "Cel", 21.5, null, null], [1, "door", null, null, "open", null], [2, "alarm", null, null, null, 1]]);
    const d = await sql.query({ sql: "SELECT id, status, last_seq, readings, metadata FROM devices ORDER BY readings DESC" });
    expect(d.rows[0]).toEqual([dev[0], "active", inOrder - 1, inOrder, JSON.stringify({ site: "lab-0" })]);
    const agg = await sql.query({ sql: "SELECT count(*), min(seq), max(seq), avg(value) FROM readings WHERE device = ?", params: [{ hex: dev[1] }] });
    expect(agg.rows).toEqual([[100, 0, 99, 20 + 49.5 / 4]]);
    const b = await sql.query({ sql: "SELECT height, tx_count FROM blocks WHERE height = 1" });
    expect(b.rows).toEqual([[1, 1]]);
    const t = await sql.query({ sql: "SELECT kind, count(*) FROM transactions GROUP BY kind" });
    expect(t.rows).toEqual([["readingBatch", c.chain.head().height]]);
    expect(b.height).toBe(c.chain.head().height);
  });
});

describe("verified answers", () => {
  const range = "SELECT device, seq, received_ms, height, gateway, digest, log_index, name, unit, value FROM readings WHERE device = ? AND seq BETWEEN ? AND ? ORDER BY seq";

  it("a device range in order, wider than the witness gap on both sides, verifies: rows and completeness", async () => {
    const params = [{ hex: dev[0] }, 1500, 1509];
    const ranges = [{ device: dev[0], from: 1500, to: 1509 }];
    const answer = await sql.query({ sql: range, params, verify: true, ranges });
    expect(answer.rows.length).toBe(10);
    const p = answer.proof!.ranges[0];
    // Leaves from sequence 476 (≤ 1500 − 1024) to 2533 (≥ 1509 + 1024): the witnesses at both ends.
    expect([p.leaves[0].seq, p.leaves.at(-1)!.seq, p.leaves.length]).toEqual([476, 2533, 2058]);
    expect(answer.proof!.rows.every((r) => r.reading!.path === null)).toBe(true);
    expect(await verify(range, params, ranges, answer)).toEqual({ height: c.chain.head().height, rows: 10, ranges: [{ device: dev[0], from: 1500, to: 1509, readings: 10 }] });
  });

  it("out-of-order arrival: the range's readings are found wherever they landed in the log", async () => {
    const params = [{ hex: dev[1] }, 35, 55];
    const ranges = [{ device: dev[1], from: 35, to: 55 }];
    const answer = await sql.query({ sql: range, params, verify: true, ranges });
    expect(answer.rows.map((r) => r[1])).toEqual(Array.from({ length: 21 }, (_, k) => 35 + k));
    expect(await verify(range, params, ranges, answer)).toMatchObject({ rows: 21, ranges: [{ readings: 21 }] });
  });

  it("a changed value, sequence, time or digest fails with the row named", async () => {
    const params = [{ hex: dev[0] }, 1500, 1509];
    const ranges = [{ device: dev[0], from: 1500, to: 1509 }];
    const answer = await sql.query({ sql: range, params, verify: true, ranges });
    for (const [column, value] of [[9, 99.5], [2, 1], [5, "00".repeat(32)], [3, 1]] as const) {
      const bad = structuredClone(answer);
      bad.rows[4][column] = value;
      const e = await verify(range, params, ranges, bad).catch((x: SqlVerifyError) => x);
      expect(e).toBeInstanceOf(SqlVerifyError);
      expect([(e as SqlVerifyError).code, (e as SqlVerifyError).row]).toEqual(["VERIFY_ROW", 4]);
      expect((e as Error).message).toMatch(/^row 4: /);
    }
  });

  it("a reading dropped from the declared range fails (VERIFY_MISSING names the sequence), with or without its proof", async () => {
    const params = [{ hex: dev[1] }, 35, 55];
    const ranges = [{ device: dev[1], from: 35, to: 55 }];
    const answer = await sql.query({ sql: range, params, verify: true, ranges });
    const bad = structuredClone(answer);
    bad.rows.splice(7, 1);
    bad.proof!.rows.splice(7, 1);
    const e = (await verify(range, params, ranges, bad).catch((x) => x)) as SqlVerifyError;
    expect(e.code).toBe("VERIFY_MISSING");
    expect(e.message).toContain("reading 42");
    // A gateway cannot hide it by shrinking the proven range either: the client checks its own range.
    const shrunk = structuredClone(bad);
    shrunk.proof!.ranges[0].leaves = shrunk.proof!.ranges[0].leaves.filter((l) => l.seq !== 42);
    expect(await code(verify(range, params, ranges, shrunk))).toBe("VERIFY_RANGE");
  });

  it("forged readings, a forged head, other columns or a cut answer fail", async () => {
    const params = [{ hex: dev[2] }, 0, 100];
    const ranges = [{ device: dev[2], from: 0, to: 100 }];
    const answer = await sql.query({ sql: range, params, verify: true, ranges });
    expect(await verify(range, params, ranges, answer)).toMatchObject({ rows: 2 });
    const cose = structuredClone(answer);
    cose.proof!.rows[0].reading!.cose = cose.proof!.rows[1].reading!.cose;
    expect(await code(verify(range, params, ranges, cose))).toBe("VERIFY_ROW");
    const head = structuredClone(answer);
    head.proof!.head.certificate = answer.proof!.head.certificate!.replace(/.$/, (x) => (x === "0" ? "1" : "0"));
    expect(await code(verify(range, params, ranges, head))).toBe("VERIFY_HEAD");
    const columns = structuredClone(answer);
    columns.columns[9] = "valu";
    expect(await code(verify(range, params, ranges, columns))).toBe("VERIFY_COLUMNS");
    expect(await code(verify(range, params, ranges, { ...answer, truncated: true }))).toBe("VERIFY_TRUNCATED");
    // A device record that is not the one proven.
    const device = structuredClone(answer);
    device.proof!.devices[0].value = answer.proof!.devices[0].value!.replace(/..$/, (x) => (x === "00" ? "01" : "00"));
    expect(await code(verify(range, params, ranges, device))).toBe("VERIFY_DEVICE");
  });

  it("reading_values, devices and blocks rows verify; a changed devices row fails", async () => {
    const rv = "SELECT device, seq, rec, name, string_value, bool_value FROM reading_values WHERE device = ? ORDER BY seq, rec";
    const a1 = await sql.query({ sql: rv, params: [{ hex: dev[2] }], verify: true });
    expect(await verify(rv, [{ hex: dev[2] }], [], a1)).toMatchObject({ rows: 4 });
    const ds = "SELECT id, owner, status, last_seq, readings, metadata FROM devices";
    const a2 = await sql.query({ sql: ds, verify: true });
    expect(await verify(ds, [], [], a2)).toMatchObject({ rows: 3 });
    const bad = structuredClone(a2);
    bad.rows[1][4] = 1 + (bad.rows[1][4] as number);
    expect(await verify(ds, [], [], bad).catch((e: SqlVerifyError) => [e.code, e.row])).toEqual(["VERIFY_ROW", 1]);
    const bs = "SELECT height, hash, previous_hash, time_ms FROM blocks WHERE height BETWEEN 2 AND 4";
    const a3 = await sql.query({ sql: bs, verify: true });
    expect(await verify(bs, [], [], a3)).toMatchObject({ rows: 3 });
  });

  it("verify refuses what it cannot prove: aggregates, expressions, views without proofs, missing identity columns", async () => {
    for (const s of ["SELECT count(*) FROM readings", "SELECT device, seq, value * 2 FROM readings LIMIT 1", "SELECT * FROM transactions LIMIT 1", "SELECT seq, value FROM readings LIMIT 1"]) {
      expect(await code(sql.query({ sql: s, verify: true }))).toBe("SQL_NOT_PROVABLE");
    }
  });
});

describe("over HTTP and the mote command", () => {
  it("POST /v1/sql: refusals are 400 with the code, unprovable 422, verified answers match the OpenAPI schema", async () => {
    const http = client(api);
    const r1 = await http.post("/v1/sql", { sql: "DELETE FROM readings" });
    expect([r1.status, r1.json.error.code]).toEqual([400, "SQL_NOT_SELECT"]);
    const r2 = await http.post("/v1/sql", { sql: "SELECT count(*) FROM readings", verify: true });
    expect([r2.status, r2.json.error.code]).toEqual([422, "SQL_NOT_PROVABLE"]);
    const r3 = await http.post("/v1/sql", { sql: "SELECT device, seq, value FROM readings WHERE device = ? AND seq BETWEEN 0 AND 9", params: [{ hex: dev[1] }], verify: true, ranges: [{ device: dev[1], from: 0, to: 9 }] });
    expect(r3.status).toBe(200);
    expect(r3.json.rows.length).toBe(10);
    expect(r3.json.proof.ranges[0].leaves.length).toBe(100);
  });

  it("mote sql --verify checks an answer from the genesis file; a tampered saved answer fails with exit 1 and the row", async () => {
    const { url } = await api.listen({ host: "127.0.0.1", port: 0 });
    const genesisPath = join(c.dir, "genesis.json");
    writeFileSync(genesisPath, JSON.stringify(c.genesis));
    const saved = join(c.dir, "answer.json");
    const run = promisify(execFile);
    const mote = (args: string[]) => run(process.execPath, ["--import", "tsx", "gateway/cli/main.ts", "sql", ...args], { cwd: process.cwd() }).then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));
    const statement = "SELECT device, seq, value FROM readings WHERE device = ? AND seq BETWEEN 10 AND 19 ORDER BY seq";
    const args = [statement, "--param", `hex:${dev[0]}`, "--verify", "--genesis", genesisPath, "--range", `${dev[0]}:10-19`];
    const ok = await mote([...args, "--api", url, "--save", saved]);
    expect(ok.out).toContain("verified from genesis: 10 rows");
    expect(ok.out).toContain(`complete: device ${dev[0]} sequences 10..19 hold 10 readings on chain, all in the answer`);
    expect(ok.code).toBe(0);
    const answer = JSON.parse((await import("node:fs")).readFileSync(saved, "utf8")) as VerifiedAnswerWire;
    answer.rows[3][2] = 1000;
    writeFileSync(saved, JSON.stringify(answer));
    const bad = await mote([...args, "--answer", saved]);
    expect(bad.code).toBe(1);
    expect(bad.out, bad.out).toMatch(/row 3: column value is 1000, the proof says 23\.25 \[VERIFY_ROW\]/);
  }, 60_000);
});

describe("made-up rows", () => {
  it("a UNION with literal rows cannot be proven, and a record index past the pack fails", async () => {
    const u = "SELECT device, seq FROM readings WHERE device = ? AND seq = 1 UNION ALL SELECT x'00000000000000000000000000000000', 5";
    expect(await code(sql.query({ sql: u, params: [{ hex: dev[0] }], verify: true }))).toBe("SQL_NOT_PROVABLE");
    const rv = "SELECT device, seq, rec FROM reading_values WHERE device = ? AND seq = 8";
    const answer = await sql.query({ sql: rv, params: [{ hex: dev[2] }], verify: true });
    expect(await verify(rv, [{ hex: dev[2] }], [], answer)).toMatchObject({ rows: 1 });
    const bad = structuredClone(answer);
    bad.rows[0][2] = 3;
    expect(await verify(rv, [{ hex: dev[2] }], [], bad).catch((e: SqlVerifyError) => [e.code, e.row])).toEqual(["VERIFY_ROW", 0]);
  });
});

describe("batch entries without decoding the batch", () => {
  it("batchReadingBytes finds every entry of every stored batch, byte for byte as decodeTx does", async () => {
    const { batchReadingBytes } = await import("../../gateway/sql/batch-reading.ts");
    const { decodeTx } = await import("../../shared/tx.ts");
    const { decodeBody } = await import("../../gateway/chain/block.ts");
    let n = 0;
    for (let h = 1; h <= c.chain.head().height; h++) {
      for (const tx of decodeBody(c.chain.store.block(h)!.body).txs) {
        const body = decodeTx(tx).body;
        if (body.kind !== "readingBatch") continue;
        body.readings.forEach((r, i) => expect(Buffer.compare(batchReadingBytes(tx, i), r.bytes)).toBe(0));
        n += body.readings.length;
        expect(() => batchReadingBytes(tx, body.readings.length)).toThrow(RangeError);
      }
    }
    expect(n).toBe(inOrder + 100 + 2);
  });
});
