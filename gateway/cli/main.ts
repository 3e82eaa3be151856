// `mote`: the operator's command line (`npm run mote -- …`, or bin/mote.js).
import { Command } from "commander";
import { MoteError } from "../../shared/errors.ts";
import { commandGroups } from "./commands.ts";

// Piped into `head` and the like: a closed stdout ends the command quietly, as other tools do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const program = new Command("mote").description("Moteledger: trusted sensor data from constrained devices").showHelpAfterError();
for (const register of commandGroups) register(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  // Errors we expect (bad config, locked data dir) print their message, which says what to do.
  if (e instanceof MoteError) console.error(`mote: ${e.message} [${e.code}]`);
  else console.error(e);
  process.exitCode = 1;
});
