// `mote payload …`: off-chain payloads (docs/payloads.md).
//   put <file>      uploads it to a gateway over CoAP/UDP with Block1 (RFC 7959), PUT /p/<sha256>, and
//                   prints the SenML records a device signs to anchor it (vd = SHA-256, ct, size in B)
//   get <sha256>    downloads it from a gateway's API and checks its SHA-256; with --verify also the
//                   proof chain from the genesis file alone (gateway/payloads/verify-payload.ts)
//   status <sha256> whether a gateway has it, which finalized readings anchor it, what it is fetching
import { Option, type Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { anchorRecords } from "../../shared/payload-anchor.ts";
import { BoundedFetchError, fetchBounded } from "../http-fetch.ts";
import { block1ClientDefaults, uploadPayload } from "../payloads/block1-client.ts";
import { ApiClient } from "./api-client.ts";
import { hostPortArg, integerArg, type HostPort } from "./args.ts";
import { apiOption } from "./chain-commands.ts";
import { CliError, UsageError } from "./errors.ts";
import { printFields, printJson } from "./output.ts";

/** The largest payload `get` reads when the gateway does not say its size. */
const getBytesMax = 64 << 20;

const sha256Arg = (s: string): string => {
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new UsageError("BAD_ARGUMENT", `"${s.slice(0, 70)}" is not a SHA-256 (64 hex digits)`);
  return s.toLowerCase();
};

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new CliError("FILE_READ", `cannot read ${path}: ${(e as Error).message}`);
  }
}

export function registerPayloadCommands(program: Command): void {
  const p = program.command("payload").description("off-chain payloads: upload with CoAP Block1, download with the proof chain (docs/payloads.md)");

  p.command("put <file>")
    .description("upload a file to a gateway over CoAP/UDP with Block1 (PUT /p/<sha256>) and print the SenML records that anchor it in a signed reading")
    .addOption(new Option("--gateway <host:port>", "the gateway's CoAP address over UDP").argParser(hostPortArg("the gateway's CoAP address", "127.0.0.1:5683")).default({ host: "127.0.0.1", port: 5683 }, "127.0.0.1:5683"))
    .option("--block <bytes>", "block size: 16, 32, ... 1024", integerArg(16, 1024, "--block"), block1ClientDefaults.blockBytes)
    .option("--content-format <n>", "CoAP Content-Format of the payload (42 octet-stream, 22 image/jpeg, 60 cbor...)", integerArg(0, 65_535, "--content-format"), 42)
    .option("--name <senml name>", "the SenML name of the anchor records", "payload")
    .option("--ack-timeout-ms <ms>", "RFC 7252 ACK_TIMEOUT", integerArg(1, 60_000, "--ack-timeout-ms"), block1ClientDefaults.ackTimeoutMs)
    .option("--retransmit-max <n>", "RFC 7252 MAX_RETRANSMIT per block", integerArg(0, 20, "--retransmit-max"), block1ClientDefaults.retransmitMax)
    .option("--json", "print JSON")
    .action(async (file: string, o: { gateway: HostPort; block: number; contentFormat: number; name: string; ackTimeoutMs: number; retransmitMax: number; json?: boolean }) => {
      const bytes = readBytes(file);
      if (bytes.length === 0) throw new UsageError("BAD_ARGUMENT", `${file} is empty; a payload has at least one byte`);
      const r = await uploadPayload(bytes, { host: o.gateway.host, port: o.gateway.port, blockBytes: o.block, ackTimeoutMs: o.ackTimeoutMs, retransmitMax: o.retransmitMax });
      const records = anchorRecords({ name: o.name, digest: sha256(bytes), bytes: bytes.length, contentFormat: o.contentFormat }).map((x) => ({ ...x, dataValue: x.dataValue && toHex(x.dataValue) }));
      if (o.json) return printJson({ ...r, bytes: bytes.length, anchor: records });
      printFields({ sha256: r.sha256, bytes: bytes.length, answer: r.code, blocks: r.blocks, retransmissions: r.retransmissions });
      console.log(`anchor it in a signed reading with these SenML records (vd = the SHA-256, ct, size in bytes):`);
      console.log(`  {0: "${o.name}", 8: h'${r.sha256}', "ct": "${o.contentFormat}"}`);
      console.log(`  {0: "${o.name}", 1: "B", 2: ${bytes.length}}`);
    });

  p.command("get <sha256>")
    .description("download a payload from a gateway's API and check its SHA-256; --verify also checks its proof chain from --genesis alone")
    .requiredOption("--out <file>", "where to write the bytes")
    .option("--verify", "check that a finalized, device-signed reading anchors the digest, trusting only --genesis and commit certificates")
    .option("--genesis <file>", "the network's genesis.json (with --verify)")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (sha: string, o: { out: string; verify?: boolean; genesis?: string; api: string; json?: boolean }) => {
      const digest = sha256Arg(sha);
      if (o.verify && !o.genesis) throw new UsageError("MISSING_GENESIS", "--verify checks the proof chain from the network's genesis file: pass --genesis <genesis.json>");
      const api = new ApiClient(o.api);
      const proof = o.verify ? await api.get(`v1/payloads/${digest}/proof`) : undefined;
      let bytes: Uint8Array;
      try {
        bytes = (await fetchBounded(new URL(`v1/payloads/${digest}`, api.baseUrl.endsWith("/") ? api.baseUrl : `${api.baseUrl}/`).href, { bytesMax: proof?.bytes ?? getBytesMax, timeoutMs: 120_000 })).bytes;
      } catch (e) {
        if (!(e instanceof BoundedFetchError)) throw e;
        throw new CliError(e.status === 404 ? "PAYLOAD_NOT_FOUND" : "PAYLOAD_FETCH", `${e.message}${e.status === 404 ? ": the gateway does not have it (mote payload status tells whether it is anchored and being fetched)" : ""}`);
      }
      const got = toHex(sha256(bytes));
      if (got !== digest) throw new CliError("PAYLOAD_DIGEST", `the gateway served ${bytes.length} bytes hashing to ${got}, not ${digest}; nothing written`);
      let report;
      if (o.verify) {
        // Loaded only here: the verifier brings the chain's codecs, which other commands do not need.
        const [{ genesisBlock, readGenesisFile }, { verifyPayload }] = await Promise.all([import("../chain/genesis.ts"), import("../payloads/verify-payload.ts")]);
        const g = genesisBlock(readGenesisFile(o.genesis!));
        report = await verifyPayload({ sha256: digest, bytes, proof, genesis: { header: g.header, validators: g.validators }, moreTransitions: (from) => api.get(`v1/epochs?from=${from}&limit=256`) });
      }
      writeFileSync(o.out, bytes);
      if (o.json) return printJson({ sha256: digest, bytes: bytes.length, out: o.out, ...(report && { verified: report }) });
      printFields({ sha256: digest, bytes: bytes.length, written: o.out, digest: "matches" });
      for (const v of report?.verified ?? []) console.log(`verified from genesis: reading ${v.deviceId}/${v.sequence} (block ${v.height}, certified head ${v.headHeight}) signed by its device names this payload as "${v.anchor}", Content-Format ${v.contentFormat}`);
    });

  p.command("status <sha256>")
    .description("whether a gateway has a payload, the finalized readings that anchor it, and its fetch attempts")
    .option(...apiOption)
    .action(async (sha: string, o: { api: string }) => {
      const s = await new ApiClient(o.api).get(`v1/payloads/${sha256Arg(sha)}/proof`);
      const { proofs: _proofs, ...rest } = s;
      printJson(rest);
    });
}
