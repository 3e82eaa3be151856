// `mote contract …`: build AssemblyScript into a contract, deploy it, call it, and read what it did
// (its record and gas, its events, its storage with state proofs) through a gateway's API.
import type { Command } from "commander";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { fromHex, sha256, toHex } from "../../shared/ed25519.ts";
import type { ContractCriterion, TxBody } from "../../shared/tx.ts";
import { callInputBytesMax, criteriaPerContractMax } from "../contracts/limits.ts";
import { ApiClient } from "./api-client.ts";
import { integerArg } from "./args.ts";
import { apiOption } from "./chain-commands.ts";
import { CliError, UsageError } from "./errors.ts";
import { printFields, printJson, printTable } from "./output.ts";
import { submitTx, waitFinalized } from "./tx-author.ts";

interface Common {
  api: string;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
/** A call's gas limit unless --gas: 10 tokens' worth at the default gasPerToken. */
const contractGasDefault = 1_000_000;

function hexArg(hex: string, bytes: number, what: string): Uint8Array {
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(hex)) throw new UsageError("BAD_ARGUMENT", `"${hex}" is not a ${what}: give its ${bytes * 2} hex digits`);
  return fromHex(hex.toLowerCase());
}

function readable(file: string): string {
  if (!existsSync(file)) throw new CliError("FILE_NOT_FOUND", `${file} does not exist; give an AssemblyScript source (.ts) or a built contract (.wasm)`);
  return file;
}

/** Compiles AssemblyScript with the VM's options (gateway/contracts/build.ts); compiler messages on failure. */
async function build(file: string): Promise<{ code: Uint8Array; functions: string[] }> {
  readable(file);
  // The compiler loads only for commands that build: every other `mote` command starts without it.
  const { buildContract } = await import("../contracts/build.ts");
  try {
    return await buildContract(file);
  } catch (e) {
    throw new CliError("CONTRACT_BUILD_FAILED", `${(e as Error).message.trim()}\nfix the source and build again (the contracts/sdk README lists what a contract may use)`);
  }
}

/** A .wasm file as is, or a .ts source built first. */
async function codeOf(file: string): Promise<Uint8Array> {
  if (extname(file) === ".wasm") return new Uint8Array(readFileSync(readable(file)));
  return (await build(file)).code;
}

function criteriaOf(o: { device?: string[]; owner?: string[]; metadata?: string[] }): ContractCriterion[] {
  const criteria: ContractCriterion[] = [
    ...(o.device ?? []).map((d): ContractCriterion => ({ kind: "device", deviceId: hexArg(d, 16, "device id") })),
    ...(o.owner ?? []).map((d): ContractCriterion => ({ kind: "owner", ownerId: hexArg(d, 16, "owner account id") })),
    ...(o.metadata ?? []).map((p): ContractCriterion => {
      const i = p.indexOf("=");
      if (i <= 0) throw new UsageError("BAD_ARGUMENT", `--metadata "${p}" must be key=value, e.g. site=lab`);
      return { kind: "metadata", key: p.slice(0, i), value: p.slice(i + 1) };
    }),
  ];
  if (criteria.length > criteriaPerContractMax) throw new UsageError("BAD_ARGUMENT", `a contract subscribes with at most ${criteriaPerContractMax} criteria; you gave ${criteria.length}`);
  return criteria;
}

/** Call input from exactly one of --input-hex, --input-i64 (comma-separated, little-endian) or --input-text. */
export function callInput(o: { inputHex?: string; inputI64?: string; inputText?: string }): Uint8Array {
  const given = [o.inputHex, o.inputI64, o.inputText].filter((x) => x !== undefined).length;
  if (given > 1) throw new UsageError("BAD_ARGUMENT", "give the call's input once: --input-hex, --input-i64 or --input-text");
  let input: Uint8Array = new Uint8Array(0);
  if (o.inputHex !== undefined) {
    if (!/^([0-9a-fA-F]{2})*$/.test(o.inputHex)) throw new UsageError("BAD_ARGUMENT", `--input-hex "${o.inputHex}" is not hex bytes (pairs of 0-9a-f)`);
    input = fromHex(o.inputHex.toLowerCase());
  } else if (o.inputI64 !== undefined) {
    const parts = o.inputI64.split(",");
    const out = Buffer.alloc(8 * parts.length);
    parts.forEach((p, i) => {
      if (!/^-?[0-9]{1,19}$/.test(p.trim())) throw new UsageError("BAD_ARGUMENT", `--input-i64 "${p}" is not a whole number`);
      const v = BigInt(p.trim());
      if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new UsageError("BAD_ARGUMENT", `--input-i64 ${p} does not fit a signed 64-bit integer`);
      out.writeBigInt64LE(v, 8 * i);
    });
    input = new Uint8Array(out);
  } else if (o.inputText !== undefined) input = new Uint8Array(Buffer.from(o.inputText, "utf8"));
  if (input.length > callInputBytesMax) throw new UsageError("BAD_ARGUMENT", `a call's input is at most ${callInputBytesMax} bytes; this one is ${input.length}`);
  return input;
}

function amountArg(s: string): bigint {
  if (!/^[0-9]+$/.test(s)) throw new UsageError("BAD_ARGUMENT", `"${s}" is not an amount: give a whole number of tokens`);
  return BigInt(s);
}

/** Signs `body` at the least fee the chain's parameters ask, submits it, and (unless --no-wait) waits for its block. */
async function send(api: ApiClient, keyPath: string, body: TxBody, wait: boolean): Promise<{ id: string; height?: number; tx?: any }> {
  // The chain's modules load only for the commands that sign: `mote --help` and the rest start without them.
  const [{ minimumFee }, { paramsFromJson }] = await Promise.all([import("../chain/apply-tx.ts"), import("../chain/params.ts")]);
  const params = paramsFromJson(await api.get("v1/params"));
  if (!params.contractsEnabled) throw new CliError("CONTRACTS_DISABLED", `the chain at ${api.baseUrl} does not run contracts (its genesis leaves contractsEnabled at 0)`);
  const sent = await submitTx(api, keyPath, body, minimumFee(body, params));
  console.log(`${sent.kind} transaction ${sent.id} submitted (nonce ${sent.nonce})`);
  if (!wait) return { id: sent.id };
  const height = await waitFinalized(api, sent.id);
  return { id: sent.id, height, tx: await api.get(`v1/txs/${sent.id}`) };
}

const text = (hex: string): string => {
  const s = Buffer.from(hex, "hex").toString("utf8");
  return /^[\x20-\x7e]+$/.test(s) ? s : "";
};

function printRuns(runs: any[]): void {
  printTable(["contract", "reading", "gas", "failure", "events"], runs.map((r) => [r.contractId, r.position, r.gasUsed, r.failure, r.events.map((e: any) => `${e.topicText ?? e.topic}(${e.data.length / 2} B)`).join(" ")]));
}

export function registerContractCommands(program: Command): void {
  const contract = program.command("contract").description("WebAssembly contracts that readings trigger: build, deploy, call, and read their results");

  contract
    .command("build <source>")
    .description("compile an AssemblyScript contract (see contracts/examples) with the VM's options; checked and instrumented as a deploy would be")
    .option("--out <file>", "where to write the .wasm (default: <source name>.wasm here)")
    .action(async (source: string, o: { out?: string }) => {
      const built = await build(source);
      const out = o.out ?? `${basename(source, extname(source))}.wasm`;
      writeFileSync(out, built.code);
      printFields({ file: out, bytes: built.code.length, "code hash": toHex(sha256(built.code)), functions: built.functions.join(", ") });
    });

  contract
    .command("deploy <file>")
    .description("deploy a contract (.wasm, or .ts built first) from the key's account; it runs for each reading matching any --device, --owner or --metadata")
    .requiredOption("--key <file>", "the deploying account's key file (pays txFee + codeByteFee per byte)")
    .option("--device <id>", "subscribe to a device's readings (repeatable)", collect)
    .option("--owner <id>", "subscribe to the readings of an owner's devices (repeatable)", collect)
    .option("--metadata <key=value>", "subscribe to devices with this metadata, e.g. site=lab (repeatable)", collect)
    .option("--reading-gas <n>", "gas each reading-triggered run is given (paid from the contract's balance)", integerArg(1, 10_000_000, "a gas limit"), 200_000)
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .action(async (file: string, o: Common & { key: string; device?: string[]; owner?: string[]; metadata?: string[]; readingGas: number; wait: boolean }) => {
      const criteria = criteriaOf(o);
      const code = await codeOf(file);
      const api = new ApiClient(o.api);
      const sent = await send(api, o.key, { kind: "deployContract", code, criteria, readingGasLimit: o.readingGas }, o.wait);
      if (!sent.tx) return;
      if (sent.tx.result?.failure) throw new CliError(sent.tx.result.failure, `the deployment failed in block ${sent.height}: ${sent.tx.result.failure}`);
      printFields({ contract: sent.tx.body.contractId, block: sent.height, "code hash": sent.tx.body.codeHash, bytes: sent.tx.body.codeBytes, subscriptions: criteria.length || "none (calls only)" });
      if (criteria.length) console.log(`fund its reading runs: mote transfer ${sent.tx.body.contractId} <amount> --key ${o.key}`);
    });

  contract
    .command("call <contractId> <method>")
    .description("call a contract's method from the key's account; the fee pays the whole gas limit whatever the run does")
    .requiredOption("--key <file>", "the calling account's key file")
    .option("--input-hex <hex>", "input bytes as hex")
    .option("--input-i64 <n,...>", "input as signed 64-bit little-endian integers, e.g. 30000,25000")
    .option("--input-text <text>", "input as UTF-8 text")
    .option("--amount <n>", "tokens moved to the contract before the run (returned if it fails)", amountArg, 0n)
    .option("--gas <n>", "gas limit", integerArg(1, 10_000_000, "a gas limit"), contractGasDefault)
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .option("--json", "print the finalized transaction as JSON")
    .action(async (id: string, method: string, o: Common & { key: string; inputHex?: string; inputI64?: string; inputText?: string; amount: bigint; gas: number; wait: boolean }) => {
      const contractId = hexArg(id, 16, "contract id");
      const input = callInput(o);
      const api = new ApiClient(o.api);
      const sent = await send(api, o.key, { kind: "callContract", contractId, method, input, gasLimit: o.gas, amount: o.amount }, o.wait);
      if (!sent.tx) return;
      if (o.json) printJson(sent.tx);
      else {
        console.log(`finalized in block ${sent.height}`);
        printRuns(sent.tx.result?.runs ?? []);
      }
      const failure = sent.tx.result?.failure;
      if (failure) throw new CliError(failure, `the call ran and failed (${failure}); its fee is spent and its state changes dropped. \`mote contract show ${id}\` lists the contract's methods`);
    });

  contract
    .command("list")
    .description("contracts on chain, with balance and gas used")
    .option(...apiOption)
    .option("--limit <n>", "at most this many (1-500)", integerArg(1, 500, "a page size"), 100)
    .option("--cursor <cursor>", "continue after a previous page (its `next`)")
    .option("--json", "print JSON")
    .action(async (o: Common & { limit: number; cursor?: string }) => {
      const page = await new ApiClient(o.api).get(`v1/contracts?limit=${o.limit}${o.cursor ? `&cursor=${encodeURIComponent(o.cursor)}` : ""}`);
      if (o.json) return printJson(page);
      printTable(["contract", "owner", "balance", "runs", "failed", "gas used", "events", "methods"], page.items.map((c: any) => [c.id, c.owner, c.balance, c.runs, c.failedRuns, c.gasUsed, c.events, c.methods.join(",")]));
      if (page.next) console.log(`more: --cursor ${page.next}`);
    });

  contract
    .command("show <contractId>")
    .description("one contract: code hash, subscriptions, balance, methods, gas used and its latest runs")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (id: string, o: Common) => {
      hexArg(id, 16, "contract id");
      const c = await new ApiClient(o.api).get(`v1/contracts/${id.toLowerCase()}`);
      if (o.json) return printJson(c);
      printFields({
        contract: c.id,
        owner: c.owner,
        "code hash": `${c.codeHash} (${c.codeBytes} bytes)`,
        deployed: `block ${c.deployedHeight}`,
        subscriptions: c.criteria.map((x: any) => (x.kind === "metadata" ? `${x.key}=${x.value}` : `${x.kind} ${x.deviceId ?? x.ownerId}`)).join(", ") || "none",
        "reading gas": c.readingGasLimit,
        balance: c.balance,
        methods: c.methods.join(", ") || "none",
        runs: `${c.runs} (${c.failedRuns} failed), ${c.gasUsed} gas, ${c.events} events`,
        "record proof": `${c.record.valid ? "valid" : "INVALID"} at height ${c.atHeight}`,
      });
      if (c.recentRuns.length) printTable(["block", "tx", "run", "reading", "gas", "failure", "events"], c.recentRuns.map((r: any) => [r.height, r.txIndex, r.runIndex, r.position, r.gasUsed, r.failure, r.events]));
    });

  contract
    .command("events <contractId>")
    .description("a contract's events, newest first")
    .option("--topic <text>", "only this topic")
    .option("--asc", "oldest first")
    .option("--limit <n>", "at most this many (1-500)", integerArg(1, 500, "a page size"), 50)
    .option("--cursor <cursor>", "continue after a previous page (its `next`)")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (id: string, o: Common & { topic?: string; asc?: boolean; limit: number; cursor?: string }) => {
      hexArg(id, 16, "contract id");
      const q = new URLSearchParams({ limit: String(o.limit), order: o.asc ? "asc" : "desc", ...(o.topic ? { topic: o.topic } : {}), ...(o.cursor ? { cursor: o.cursor } : {}) });
      const page = await new ApiClient(o.api).get(`v1/contracts/${id.toLowerCase()}/events?${q}`);
      if (o.json) return printJson(page);
      printTable(["block", "tx", "run", "reading", "topic", "data"], page.items.map((e: any) => [e.height, e.txIndex, e.runIndex, e.position, e.topicText ?? e.topic, e.data]));
      if (page.next) console.log(`more: --cursor ${page.next}`);
    });

  contract
    .command("storage <contractId> [keyHex]")
    .description("a contract's storage entries (or one key), each with its state proof against the head's state root")
    .option("--limit <n>", "at most this many (1-500)", integerArg(1, 500, "a page size"), 100)
    .option("--cursor <cursor>", "continue after a previous page (its `next`)")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (id: string, key: string | undefined, o: Common & { limit: number; cursor?: string }) => {
      hexArg(id, 16, "contract id");
      if (key !== undefined && !/^([0-9a-fA-F]{2}){1,64}$/.test(key)) throw new UsageError("BAD_ARGUMENT", `"${key}" is not a storage key: give its bytes as hex (1 to 64 bytes)`);
      const api = new ApiClient(o.api);
      const base = `v1/contracts/${id.toLowerCase()}/storage`;
      const page = key !== undefined ? await api.get(`${base}/${key.toLowerCase()}`) : await api.get(`${base}?limit=${o.limit}${o.cursor ? `&cursor=${o.cursor}` : ""}`);
      if (o.json) return printJson(page);
      const items = key !== undefined ? [page] : page.items;
      console.log(`state root ${page.stateRoot} at height ${page.atHeight}`);
      printTable(["key", "as text", "value", "proof"], items.map((e: any) => [e.key, text(e.key), e.value ?? "(absent)", e.proof.valid ? "valid" : "INVALID"]));
      if (page.next) console.log(`more: --cursor ${page.next}`);
      if (items.some((e: any) => !e.proof.valid)) throw new CliError("PROOF_INVALID", `a storage proof from ${o.api} does not verify against its state root; do not trust this gateway's answer`);
    });
}
