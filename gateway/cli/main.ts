// `mote`: the operator's command line (`npm run mote -- …`, or bin/mote.js).
import { Command, CommanderError } from "commander";
import { MoteError } from "../../shared/errors.ts";
import { commandGroups } from "./commands.ts";
import { CliError, exitCodes } from "./errors.ts";

// Piped into `head` and the like: a closed stdout ends the command quietly, as other tools do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

// exitOverride before the commands exist: subcommands inherit it, so commander's refusals
// (unknown option, missing or invalid argument) reach the catch below instead of exiting 1.
const program = new Command("mote").description("Moteledger: trusted sensor data from constrained devices").showHelpAfterError().exitOverride();
for (const register of commandGroups) register(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // Commander printed its message (and the help) already; --help itself is exit 0.
    process.exitCode = e.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    return;
  }
  // Errors we expect (bad config, locked data dir, unreachable gateway) print their message, which
  // says what to do; anything else is a bug and keeps its stack.
  if (e instanceof MoteError) console.error(`mote: ${e.message} [${e.code}]`);
  else console.error(e);
  process.exitCode = e instanceof CliError ? e.exitCode : exitCodes.failed;
});
