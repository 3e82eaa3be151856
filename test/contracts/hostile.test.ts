// Hostile modules: each is refused at deploy (with the rule it breaks) or stopped by gas or the
// call-depth limit, never crashes the node, and two chains applying the same blocks stay equal.
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { paramsDefault } from "../../gateway/chain/params.ts";
import { contractVmReady } from "../../gateway/contracts/binaryen.ts";
import { compileContract, type CompiledContract } from "../../gateway/contracts/compile.ts";
import { ContractCodeError } from "../../gateway/contracts/errors.ts";
import { gasScheduleOf } from "../../gateway/contracts/instrument.ts";
import { runContract, type RunHost } from "../../gateway/contracts/runner.ts";
import { buildAndCommit } from "../chain/drive.ts";
import { makeFixture, openChain } from "../chain/fixture.ts";
import { callTx, deployTx, examples } from "./contract-fixture.ts";
import { nestedBlocks, wat } from "./wat.ts";

const schedule = gasScheduleOf(paramsDefault);
beforeAll(() => contractVmReady());

function host(): RunHost {
  const storage = new Map<string, Uint8Array>();
  return {
    contractId: new Uint8Array(16),
    ownerId: new Uint8Array(16),
    callerId: new Uint8Array(16),
    value: 0n,
    input: new Uint8Array(8),
    block: { height: 1, timeMs: 1, parentHash: new Uint8Array(32) },
    storageGet: (k) => storage.get(toHex(k)),
    storageSet: (k, v) => (v ? storage.set(toHex(k), v) : storage.delete(toHex(k))),
    balance: () => 0n,
    transfer: () => false,
  };
}

const refusedBecause = (code: Uint8Array): string => {
  try {
    compileContract(code, schedule);
    return "accepted";
  } catch (e) {
    if (e instanceof ContractCodeError) return e.message;
    throw e;
  }
};

const mem = `(memory 1 1)`;
export const hostileRuns: Record<string, string> = {
  "infinite loop": `(module ${mem} (func (export "run") (loop $l (br $l))))`,
  "deep recursion": `(module ${mem} (func $f (export "run") (call $f)))`,
  "mutual recursion with locals": `(module ${mem} (func $a (export "run") (local i64 i64 i64 i64) (call $b)) (func $b (local i64 i64 i64 i64) (call $a)))`,
  "memory-growth bomb": `(module (memory 1 16) (func (export "run") (loop $l (drop (memory.grow (i32.const 1))) (br $l))))`,
  "storage spam": `(module (import "env" "storage_write" (func $w (param i32 i32 i32 i32))) ${mem} (func (export "run") (local $i i32) (loop $l (i32.store (i32.const 0) (local.get $i)) (call $w (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 1024)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l))))`,
  "out-of-bounds host pointer": `(module (import "env" "storage_write" (func $w (param i32 i32 i32 i32))) ${mem} (func (export "run") (call $w (i32.const 65530) (i32.const 60) (i32.const 0) (i32.const 1))))`,
  "integer divide by zero": `(module ${mem} (func (export "run") (drop (i32.div_u (i32.const 1) (i32.const 0)))))`,
};

export const hostileDeploys: Record<string, [string, RegExp]> = {
  "huge table": [`(module ${mem} (table 100000 funcref) (func (export "run")))`, /table may hold at most/],
  "huge memory": [`(module (memory 1 65536) (func (export "run")))`, /maximum of at most 16 pages/],
  "memory without a maximum": [`(module (memory 1) (func (export "run")))`, /maximum of at most 16 pages/],
  "float arithmetic": [`(module ${mem} (func (export "run") (drop (f64.add (f64.const 1) (f64.const 2)))))`, /float/],
  "float local": [`(module ${mem} (func (export "run") (local f32)))`, /type other than i32\/i64/],
  "float parameter": [`(module ${mem} (func (export "run") (param f64)))`, /type other than i32\/i64/],
  "float through reinterpret": [`(module ${mem} (func (export "run") (drop (i64.reinterpret_f64 (f64.const 0)))))`, /float/],
  "NaN constant": [`(module ${mem} (func (export "run") (drop (f32.const nan))))`, /float/],
  "SIMD": [`(module ${mem} (func (export "run") (drop (v128.const i32x4 0 0 0 0))))`, /float, SIMD or reference/],
  "shared memory (threads)": [`(module (memory 1 1 shared) (func (export "run")))`, /shared memory/],
  "atomics": [`(module (memory 1 1 shared) (func (export "run") (drop (i32.atomic.load (i32.const 0)))))`, /shared memory|atomic/],
  "bulk memory": [`(module ${mem} (func (export "run") (memory.fill (i32.const 0) (i32.const 0) (i32.const 10))))`, /outside the allowed set/],
  "unknown import": [`(module (import "env" "clock_ms" (func (result i64))) ${mem} (func (export "run")))`, /not in the host API/],
  "import from another module": [`(module (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32))) ${mem} (func (export "run")))`, /not in the host API/],
  "host function with a wrong signature": [`(module (import "env" "balance" (func (result i32))) ${mem} (func (export "run")))`, /must have the signature/],
  "imported memory": [`(module (import "env" "memory" (memory 1 1)) (func (export "run")))`, /contracts import functions only/],
  "start function": [`(module ${mem} (func $s) (start $s))`, /start function/],
  "tail call": [`(module ${mem} (func $f (export "run") (return_call $f)))`, /tail calls/],
  "reserved export": [`(module ${mem} (func (export "__mote_gas")))`, /reserved prefix/],
  "no memory": [`(module (func (export "run")))`, /no memory/],
  "too many locals": [`(module ${mem} (func (export "run") (local ${"i32 ".repeat(300)})))`, /locals/],
  "not WebAssembly": ["", /not a valid WebAssembly module/],
};

describe("hostile modules", () => {
  for (const [name, [text, why]] of Object.entries(hostileDeploys)) {
    it(`refused at deploy: ${name}`, () => {
      const bytes = text ? wat(text) : new Uint8Array([0, 1, 2, 3]);
      expect(refusedBecause(bytes)).toMatch(why);
    });
  }

  it("refused at deploy: deep nesting (20,000 blocks)", () => {
    expect(refusedBecause(nestedBlocks(20_000))).toMatch(/nests expressions deeper/);
    expect(refusedBecause(nestedBlocks(100))).toBe("accepted");
  });

  const expectedStop: Record<string, string> = {
    "infinite loop": "CONTRACT_OUT_OF_GAS",
    "deep recursion": "CONTRACT_CALL_DEPTH",
    "mutual recursion with locals": "CONTRACT_CALL_DEPTH",
    "memory-growth bomb": "CONTRACT_OUT_OF_GAS",
    "storage spam": "CONTRACT_OUT_OF_GAS",
    "out-of-bounds host pointer": "CONTRACT_HOST_ERROR",
    "integer divide by zero": "CONTRACT_TRAP",
  };
  for (const [name, text] of Object.entries(hostileRuns)) {
    it(`stopped when run: ${name}`, () => {
      const c = compileContract(wat(text), schedule);
      const a = runContract(c, "run", host(), 1_000_000, schedule);
      const b = runContract(c, "run", host(), 1_000_000, schedule);
      expect(a.failure).toBe(expectedStop[name]);
      expect(b).toEqual(a); // the same gas and outcome every time
      expect(a.gasUsed).toBeLessThanOrEqual(1_000_000);
    });
  }

  it("the memory-growth bomb is bounded by the declared maximum, not by gas alone", () => {
    const c = compileContract(wat(`(module (memory 1 16) (func (export "run") (result i32) (local $n i32) (loop $l (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $l)))) (local.get $n)))`), schedule);
    const r = runContract(c, "run", host(), 1_000_000, schedule);
    expect(r.failure).toBeNull(); // grew to 16 pages, then memory.grow said -1
  });

  it("1,000 randomly mutated modules: each refused at deploy or run to an outcome, identically twice", async () => {
    const seeds = Object.values(await examples());
    let state = 20240612;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const tally = { refused: 0, completed: 0, stopped: 0 };
    for (let i = 0; i < 1000; i++) {
      const m = Uint8Array.from(seeds[i % seeds.length]);
      const edits = 1 + rand(4);
      for (let k = 0; k < edits; k++) m[8 + rand(m.length - 8)] = rand(256);
      let c: CompiledContract;
      try {
        c = compileContract(m, schedule);
      } catch (e) {
        expect(e, `mutant ${i}`).toBeInstanceOf(ContractCodeError);
        tally.refused++;
        continue;
      }
      for (const entry of [...c.functions].filter((f) => f !== "_initialize")) {
        const a = runContract(c, entry, host(), 200_000, schedule);
        const b = runContract(c, entry, host(), 200_000, schedule);
        expect(b, `mutant ${i} ${entry}`).toEqual(a);
        if (a.failure === null) tally.completed++;
        else tally.stopped++;
      }
    }
    expect(tally.refused + tally.completed + tally.stopped).toBeGreaterThan(1000);
    expect(tally.refused).toBeGreaterThan(0);
    console.log("mutated modules:", tally);
  });

  it("on two chains: hostile deploys refused, hostile calls paid for and stopped, equal state roots", () => {
    const f = makeFixture({ gateways: 1, users: 2, devices: 1, label: "hostile", params: { contractsEnabled: 1 } });
    const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
    const a = openChain(f);
    const b = openChain(f);
    const [mallory] = f.users;
    let nonce = 0;
    let timeMs = f.genesis.genesisTimeMs;
    const block = (txs: Uint8Array[]) => {
      timeMs += 1000;
      const ra = buildAndCommit(a.chain, signers, txs, timeMs);
      const rb = buildAndCommit(b.chain, signers, txs, timeMs);
      expect(toHex(rb.pending.block.header.stateRoot)).toBe(toHex(ra.pending.block.header.stateRoot));
      expect(rb.failures).toEqual(ra.failures);
      return ra;
    };
    // Refused deploys are rejected whole: no nonce used, no fee.
    const refused = block(Object.values(hostileDeploys).filter(([t]) => t).map(([t]) => deployTx(a.chain, mallory, nonce, wat(t)).bytes));
    expect(refused.codes.every((c) => c === "CONTRACT_CODE_INVALID")).toBe(true);
    const deployed = Object.entries(hostileRuns).map(([name, t]) => ({ name, ...deployTx(a.chain, mallory, nonce++, wat(t)) }));
    block(deployed.map((d) => d.bytes));
    const before = a.chain.state().account(mallory.id).balance;
    const calls = block(deployed.map((d) => callTx(a.chain, mallory, nonce++, d.id, "run", new Uint8Array(0), 1_000_000)));
    expect(calls.codes.every((c) => c === undefined)).toBe(true);
    expect(calls.failures).toEqual(["CONTRACT_OUT_OF_GAS", "CONTRACT_CALL_DEPTH", "CONTRACT_CALL_DEPTH", "CONTRACT_OUT_OF_GAS", "CONTRACT_OUT_OF_GAS", "CONTRACT_HOST_ERROR", "CONTRACT_TRAP"]);
    // Every call paid its fee (1 + 10 tokens of gas) and used its nonce; the storage spam left nothing.
    expect(before - a.chain.state().account(mallory.id).balance).toBe(BigInt(deployed.length) * 11n);
    expect(a.chain.state().account(mallory.id).nonce).toBe(nonce);
    expect([...a.store.stateEntries("contract/")].filter(([k]) => k.includes("/s/"))).toEqual([]);
    a.store.close();
    b.store.close();
  });
});
