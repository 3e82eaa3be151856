#!/usr/bin/env node
// The `mote` command: the compiled CLI under dist/ (`npm run build`, which `npm ci` and `npm start`
// run). While changing the sources, `npm run mote -- …` runs them through tsx instead.
import { existsSync } from "node:fs";

const main = new URL("../dist/gateway/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("mote: the CLI is not built (no dist/gateway/cli/main.js): run `npm run build` in the moteledger folder");
  process.exit(1);
}
await import(main.href);
