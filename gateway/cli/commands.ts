// Every `mote` command group registers itself here, from its own file, so adding a command is one
// import and one line: `mote gateway …` today, `mote chain …`, `mote device …` and others later.
import type { Command } from "commander";
import { registerGatewayCommands } from "./gateway-command.ts";
import { registerNetCommands } from "./net-command.ts";
import { registerChainCommands } from "./chain-commands.ts";
import { registerDeviceCommands } from "./device-commands.ts";
import { registerKeyCommands } from "./key-command.ts";
import { registerContractCommands } from "./contract-commands.ts";
import { registerFirmwareCommands } from "./firmware-commands.ts";
import { registerSqlCommands } from "./sql-command.ts";
import { registerPayloadCommands } from "./payload-commands.ts";

export type RegisterCommands = (program: Command) => void;

export const commandGroups: RegisterCommands[] = [registerNetCommands, registerKeyCommands, registerGatewayCommands, registerDeviceCommands, registerChainCommands, registerFirmwareCommands, registerContractCommands, registerSqlCommands, registerPayloadCommands];
