// GET /v1/snapshot (gateway/api/routes/snapshot.ts over gateway/snapshot/serve.ts): the answer is a
// chain store that verifies from the genesis file; the temporary copy is gone afterwards; a second
// copy within the interval is refused (429), one while another is taken is refused (busy).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { createApiServer, SoloConsensusSource } from "../../gateway/api/index.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import { SnapshotServer } from "../../gateway/snapshot/serve.ts";
import { verifySnapshot } from "../../gateway/snapshot/verify.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { makeFixture } from "../chain/fixture.ts";
import { buildChain } from "./chain-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "mote-snapshot-serve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the route streams a verifiable copy, removes it, and rate-limits", async () => {
  const f = makeFixture({ gateways: 3, devices: 2, label: "serve", params: { epochBlocks: 5 } });
  const dataDir = join(dir, "node");
  buildChain(f, dataDir, 8);
  writeFileSync(join(dataDir, "gateway.key.json"), "{}");
  const chain = Chain.open(ChainStore.open(dataDir), f.genesis);
  const api = await createApiServer({ chain, mempool: new Mempool(chain), consensus: new SoloConsensusSource(chain, f.gateways[0].id) });
  try {
    const r = await api.app.inject({ method: "GET", url: "/v1/snapshot" });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toBe("application/vnd.sqlite3");
    expect(Number(r.headers["x-mote-snapshot-height"])).toBe(8);
    expect(r.rawPayload.length).toBe(Number(r.headers["content-length"]));
    const copy = join(dir, "copy");
    mkdirSync(copy);
    writeFileSync(join(copy, "chain.sqlite"), r.rawPayload);
    expect(verifySnapshot(copy, f.genesis)).toMatchObject({ tipHeight: 8, epochsWalked: 1 });
    // The stream's close (after its file descriptor is closed) removes the copy.
    for (let i = 0; i < 200 && readdirSync(dataDir).some((x) => x.startsWith("snapshot-")); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(readdirSync(dataDir).filter((x) => x.startsWith("snapshot-"))).toEqual([]);

    const again = await api.app.inject({ method: "GET", url: "/v1/snapshot" });
    expect(again.statusCode).toBe(429);
    expect(again.json().error.code).toBe("SNAPSHOT_RATE");
  } finally {
    await api.close();
    chain.store.close();
  }
});

test("one copy at a time; stale copies of a stopped process are swept", async () => {
  const f = makeFixture({ gateways: 3, devices: 1, label: "busy" });
  const dataDir = join(dir, "busy");
  buildChain(f, dataDir, 2);
  writeFileSync(join(dataDir, "snapshot-1-1.sqlite.tmp"), "left by a killed gateway");
  writeFileSync(join(dataDir, "snapshot-1-1.sqlite.tmp-journal"), "left mid-backup");
  const store = ChainStore.open(dataDir);
  const server = new SnapshotServer(store, { intervalMinMs: 0 });
  expect(readdirSync(dataDir).filter((x) => x.startsWith("snapshot-"))).toEqual([]);
  const first = server.take();
  await expect(server.take()).rejects.toMatchObject({ code: "SNAPSHOT_BUSY" });
  (await first).release();
  const second = await server.take();
  second.release();
  store.close();
});
