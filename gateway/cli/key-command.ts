// `mote key new`: a key file for an account or a gateway (gateway/chain/keyfile.ts), mode 0600.
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { newIdentity, readKeyFile, writeKeyFile } from "../chain/keyfile.ts";
import { printFields } from "./output.ts";

export function registerKeyCommands(program: Command): void {
  const key = program.command("key").description("account and gateway keys");
  key
    .command("new")
    .description("create a key file (Ed25519 seed, mode 0600); its id is the account, gateway and validator id")
    .requiredOption("--out <file>", "where to write it (refuses to overwrite)")
    .option("--label <text>", "a note stored in the file", "account")
    .action((o: { out: string; label: string }) => {
      if (existsSync(o.out)) throw new MoteError("KEY_EXISTS", `${o.out} exists; a key file is never overwritten (it would lose the account)`);
      const who = newIdentity();
      writeKeyFile(o.out, who, o.label);
      printFields({ id: toHex(who.id), "public key": toHex(who.publicKey), file: o.out });
    });
  key
    .command("show <file>")
    .description("the id and public key of a key file")
    .action((file: string) => {
      const who = readKeyFile(file);
      printFields({ id: toHex(who.id), "public key": toHex(who.publicKey) });
    });
}
