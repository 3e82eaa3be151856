// Crash safety (issue 4, "Must show"): a child process writing blocks is killed with SIGKILL at
// random points, 50 times. After each kill the database is opened (recovery), the chain verifies
// hash-linked from genesis, every block the child acknowledged is still there unchanged, and the
// state root equals a clean replay of the same blocks on a separate node.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { verifyChain } from "../../gateway/chain/recover.ts";
import { smtRoot } from "../../gateway/chain/smt.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { crashFixture } from "./crash-fixture.ts";
import { openChain } from "./fixture.ts";
import { rng } from "./random-txs.ts";

const writer = fileURLToPath(new URL("./crash-writer.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mote-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the writer and kills it with SIGKILL `delayMs` after it starts (`from: "spawn"`, so the kill
 * can land in start-up or recovery) or after it opened the database (`from: "open"`, so it lands
 * while blocks are written, however slow start-up is on a loaded machine). Returns the blocks it
 * acknowledged and whether the kill landed inside a commit.
 */
function runAndKill(from: "spawn" | "open" | "mid-commit", delayMs: number): Promise<{ acked: Map<number, string>; killedInCommit: boolean }> {
  return new Promise((resolve, reject) => {
    const args = ["--import", "tsx", writer, dir, ...(from === "mid-commit" ? [String(delayMs)] : [])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const acked = new Map<number, string>();
    let out = "";
    let stderr = "";
    let last = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const lines = out.split("\n");
      out = lines.pop()!;
      for (const line of lines) {
        const [what, height, hash] = line.split(" ");
        last = what;
        if (what === "opened" && from === "open") timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
        if (what === "committed") acked.set(Number(height), hash);
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let timer = from === "spawn" ? setTimeout(() => child.kill("SIGKILL"), delayMs) : undefined;
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
      else resolve({ acked, killedInCommit: last === "commit-start" });
    });
  });
}

describe("crash safety", () => {
  it("survives 50 kill -9 at random points: chain intact from genesis, state root equals a clean replay", async () => {
    const { fixture } = crashFixture();
    const next = rng(424242);
    const replica = openChain(fixture); // the clean replay, in memory, fed only verified blocks
    const everAcked = new Map<number, string>();
    let killsWhileWriting = 0;
    let killsInsideCommit = 0;
    for (let run = 0; run < 50; run++) {
      // One run in five is killed during start-up (open, recovery), one in five kills itself in
      // the middle of a block's SQLite transaction, the others are killed while writing.
      const r = next();
      const from = r < 0.2 ? "spawn" : r < 0.4 ? "mid-commit" : "open";
      const { acked, killedInCommit } = await runAndKill(from, Math.floor(next() * (from === "spawn" ? 700 : from === "mid-commit" ? 3000 : 600)));
      if (acked.size > 0) killsWhileWriting++;
      if (killedInCommit) killsInsideCommit++;
      for (const [h, hash] of acked) everAcked.set(h, hash);

      const store = ChainStore.open(dir);
      const chain = Chain.open(store, fixture.genesis); // recovery on open
      const tip = chain.head().height;
      expect(verifyChain(store)).toBe(tip + 1);
      for (const [h, hash] of everAcked) {
        expect(h, `acknowledged block ${h} lost (tip ${tip}) after run ${run}`).toBeLessThanOrEqual(tip);
        expect(toHex(store.block(h)!.hash), `block ${h} changed after run ${run}`).toBe(hash);
      }
      // Blocks the replica already holds must be unchanged; new ones are replayed through validation.
      for (let h = 1; h <= replica.chain.head().height; h++) expect(toHex(store.block(h)!.hash)).toBe(toHex(replica.store.block(h)!.hash));
      for (let h = replica.chain.head().height + 1; h <= tip; h++) {
        const b = chain.blockAt(h)!;
        replica.chain.commit(replica.chain.validate(b.block), b.certificate);
      }
      expect(toHex(replica.chain.head().header.stateRoot)).toBe(toHex(chain.head().header.stateRoot));
      expect(toHex(smtRoot(store))).toBe(toHex(chain.head().header.stateRoot));
      store.close();
    }
    console.log(`crash test: ${killsWhileWriting}/50 kills while writing, ${killsInsideCommit} inside a block's SQLite commit; ${replica.chain.head().height} blocks replayed`);
    expect(killsWhileWriting, "most kills landed while blocks were being written").toBeGreaterThanOrEqual(20);
    expect(killsInsideCommit, "kills landed inside commits").toBeGreaterThanOrEqual(5);
    expect(replica.chain.head().height).toBeGreaterThan(100);
  }, 240_000);
});
