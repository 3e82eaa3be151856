// Chain commands over a gateway's API: status, blocks, readings, staking, voting, raw transactions.
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { fromHex } from "../../shared/ed25519.ts";
import { ApiClient, defaultApiUrl } from "./api-client.ts";
import { httpUrlArg, integerArg } from "./args.ts";
import { UsageError } from "./errors.ts";
import { ago, printFields, printJson, printTable } from "./output.ts";
import { submitTx, waitFinalized } from "./tx-author.ts";
import type { TxBody } from "../../shared/tx.ts";

interface Common {
  api: string;
  json?: boolean;
}

export const apiOption = ["--api <url>", "the gateway API (or MOTE_API)", httpUrlArg("the gateway API's address", "http://127.0.0.1:8080"), defaultApiUrl] as const;

function idArg(hex: string, bytes: number, what: string): Uint8Array {
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(hex)) throw new UsageError("BAD_ARGUMENT", `"${hex}" is not a ${what}: give its ${bytes * 2} hex digits`);
  return fromHex(hex.toLowerCase());
}

function amountArg(s: string): bigint {
  if (!/^[1-9][0-9]*$/.test(s)) throw new UsageError("BAD_ARGUMENT", `"${s}" is not an amount: give a positive whole number`);
  return BigInt(s);
}

async function report(api: ApiClient, o: { wait?: boolean }, sent: { id: string; kind: string; nonce: number }): Promise<void> {
  console.log(`${sent.kind} transaction ${sent.id} submitted (nonce ${sent.nonce})`);
  if (o.wait !== false) console.log(`finalized in block ${await waitFinalized(api, sent.id)}`);
}

/** A command that signs `body(args)` with --key, submits it, and waits for finality unless --no-wait. */
function txCommand(parent: Command, usage: string, description: string, body: (...args: string[]) => TxBody): void {
  parent
    .command(usage)
    .description(description)
    .requiredOption("--key <file>", "the signing account's key file")
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .action(async (...args: unknown[]) => {
      const positional = args.slice(0, -2) as string[];
      const o = args.at(-2) as Common & { key: string; wait?: boolean };
      const api = new ApiClient(o.api);
      await report(api, o, await submitTx(api, o.key, body(...positional)));
    });
}

export function registerChainCommands(program: Command): void {
  program
    .command("status")
    .description("the gateway's view of the chain: head, finality, consensus, validators")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (o: Common) => {
      const api = new ApiClient(o.api);
      const [head, validators, health] = await Promise.all([api.get("v1/head"), api.get("v1/validators"), api.get("v1/health").catch((e) => ({ status: "unhealthy", reason: e.message }))]);
      if (o.json) return printJson({ head, validators, health });
      printFields({
        chain: head.chainId,
        height: `${head.height} (${ago(head.timeMs)})`,
        finalized: head.finalizedHeight,
        finality: `${head.finality.mode}, last ${head.finality.lastMs ?? "-"} ms, mean ${head.finality.meanMs ?? "-"} ms`,
        "state root": head.stateRoot,
        epoch: `${validators.epoch} (next at block ${validators.nextEpochAtHeight})`,
        health: health.status ?? "ok",
      });
      printTable(["validator", "power", "votes", "self-stake", "blocks", "endpoint"], validators.validators.map((v: any) => [v.id, v.power, v.votes, v.selfStake, v.blocksProduced, v.endpoint]));
    });

  const block = program.command("block").description("finalized blocks");
  block
    .command("show <heightOrHash>")
    .description("a block's header, certificate and transactions")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (id: string, o: Common) => {
      const b = await new ApiClient(o.api).get(`v1/blocks/${encodeURIComponent(id)}`);
      if (o.json) return printJson(b);
      printFields({ height: b.height, hash: b.hash, previous: b.previousHash, time: new Date(b.timeMs).toISOString(), proposer: b.proposer, "state root": b.stateRoot, "tx root": b.txRoot, transactions: b.txCount, readings: b.readings, certificate: b.certificate ? "present" : "none" });
      if (b.txs?.length) printTable(["tx", "kind", "author", "readings"], b.txs.map((t: any) => [t.id, t.kind, t.author, t.readings ?? "-"]));
    });

  const reading = program.command("reading").description("finalized device readings");
  reading
    .command("list <deviceId>")
    .description("a device's readings in a time range, oldest first")
    .option(...apiOption)
    .option("--since <iso|ms>", "from this time (default: 1 hour ago)")
    .option("--until <iso|ms>", "up to this time (default: now)")
    .option("--limit <n>", "at most this many (1-500)", integerArg(1, 500, "a page size"), 50)
    .option("--cursor <cursor>", "continue after a previous page (its `next`)")
    .option("--json", "print JSON")
    .action(async (deviceId: string, o: Common & { since?: string; until?: string; limit: number; cursor?: string }) => {
      idArg(deviceId, 16, "device id");
      const time = (s: string | undefined, d: number) => (s === undefined ? d : /^\d+$/.test(s) ? Number(s) : Date.parse(s));
      const from = time(o.since, Date.now() - 3_600_000);
      const to = time(o.until, Date.now());
      if (!Number.isFinite(from) || !Number.isFinite(to)) throw new UsageError("BAD_ARGUMENT", "--since/--until take an ISO date or Unix milliseconds");
      const page = await new ApiClient(o.api).get(`v1/devices/${deviceId}/readings?from=${from}&to=${to}&limit=${o.limit}${o.cursor ? `&cursor=${encodeURIComponent(o.cursor)}` : ""}`);
      if (o.json) return printJson(page);
      printTable(["seq", "received", "block", "gateway", "values"], page.items.map((r: any) => [r.sequence, new Date(r.receivedAtMs).toISOString(), r.height, r.gatewayId, r.records.map((x: any) => `${x.name}=${x.value ?? x.stringValue ?? x.boolValue ?? `sha256:${String(x.dataValue).slice(0, 12)}…`}${x.unit ? ` ${x.unit}` : ""}`).join(", ")]));
      if (page.next) console.log(`more: --cursor ${page.next}`);
    });

  // Signed transactions from a key file: one line each, what differs is the body.
  txCommand(program, "stake <amount>", "bond tokens from the key's balance as stake (weighs its votes for validators)", (amount) => ({ kind: "stake", amount: amountArg(amount) }));
  txCommand(program, "unstake <amount>", "start unbonding stake (it returns to the balance after the unbonding period)", (amount) => ({ kind: "unstake", amount: amountArg(amount) }));
  txCommand(program, "vote <candidateIds...>", "vote, with the key's stake, for delegate candidates (replaces its previous vote)", (ids) => ({
    kind: "vote",
    candidates: (ids as unknown as string[]).map((h) => idArg(h, 16, "candidate id")).sort(Buffer.compare),
  }));
  txCommand(program, "transfer <toAccountId> <amount>", "send tokens from the key's account to another account", (to, amount) => ({ kind: "transfer", to: idArg(to, 16, "account id"), amount: amountArg(amount) }));
  const candidate = program.command("candidate").description("delegate candidates (gateways that may be elected validators)");
  txCommand(candidate, "register <endpoint>", "register the key's gateway as a delegate candidate reachable by peers at host:port", (endpoint) => {
    if (!/^[^\s:]+:\d{1,5}$/.test(endpoint)) throw new UsageError("BAD_ARGUMENT", `"${endpoint}" is not host:port (the address other gateways dial for consensus)`);
    return { kind: "registerCandidate", endpoint };
  });

  const tx = program.command("tx").description("raw transactions");
  tx.command("send <file>")
    .description("submit a signed transaction (shared/tx.ts encoding) from a binary file, or hex with --hex")
    .option("--hex", "the file holds hex text")
    .option(...apiOption)
    .action(async (file: string, o: Common & { hex?: boolean }) => {
      const raw = readFileSync(file);
      const hex = o.hex ? raw.toString("utf8").trim() : raw.toString("hex");
      const accepted = await new ApiClient(o.api).post("v1/txs", { tx: hex, encoding: "hex" });
      console.log(`transaction ${accepted.id} accepted into the mempool`);
    });
}
