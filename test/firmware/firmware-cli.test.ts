// `mote firmware keygen|sign|show` as an operator runs them: real processes, real files, exit codes.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { openManifest } from "../../shared/firmware-manifest.ts";
import { readKeyFile } from "../../gateway/chain/keyfile.ts";
import { tempDir } from "../support/gateway-fixtures.ts";

const cli = fileURLToPath(new URL("../../gateway/cli/main.ts", import.meta.url));
const mote = (...args: string[]) =>
  promisify(execFile)(process.execPath, ["--import", "tsx", cli, ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
const cleanups: (() => unknown)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("mote firmware", () => {
  it("keygen, sign and show: a manifest that verifies, and exit 1 for a wrong key or image", async () => {
    const dir = tempDir("mote-fw-");
    cleanups.push(() => dir.remove());
    const p = (f: string) => `${dir.path}/${f}`;
    writeFileSync(p("fw.wasm"), randomBytes(4000));
    writeFileSync(p("other.wasm"), randomBytes(4000));
    expect((await mote("firmware", "keygen", "--out", p("pub.json"))).stdout).toMatch(/kid\s+[0-9a-f]{16}/);
    expect((await mote("firmware", "keygen", "--out", p("pub.json"))).code).toBe(1);
    await mote("key", "new", "--out", p("other.json"));
    const signed = await mote("firmware", "sign", "--key", p("pub.json"), "--version", "7", "--text", "1.2.0", p("fw.wasm"), "-o", p("m.cose"));
    expect(signed.code).toBe(0);
    const m = openManifest(new Uint8Array(readFileSync(p("m.cose"))), readKeyFile(p("pub.json")).publicKey);
    expect(m.manifest.version).toBe(7);
    expect(signed.stdout).toContain(m.imageId);

    const ok = await mote("firmware", "show", p("m.cose"), "--image", p("fw.wasm"), "--publisher", p("pub.json"));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/signature\s+valid/);
    expect(ok.stdout).toMatch(/image\s+matches/);
    const wrongKey = await mote("firmware", "show", p("m.cose"), "--publisher", p("other.json"));
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain("[SIGNATURE]");
    const wrongImage = await mote("firmware", "show", p("m.cose"), "--image", p("other.wasm"));
    expect(wrongImage.code).toBe(1);
    expect(wrongImage.stderr).toContain("[DIGEST]");
    const notManifest = await mote("firmware", "show", p("fw.wasm"));
    expect(notManifest.code).toBe(1);
    expect(notManifest.stderr).toContain("[MANIFEST]");
    expect((await mote("firmware", "sign", "--key", p("pub.json"), "--version", "0", p("fw.wasm"), "-o", p("x"))).code).toBe(2);
  });
});
