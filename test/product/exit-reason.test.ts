// Why a devnet gateway exited during start, as GatewayProcess.ready reports it (gateway/devnet/processes.ts):
// the CLI's error line when there is one, else the last lines of stderr, so an error that escaped the
// CLI (a stack, no "mote:" line) still says what happened after the data directory is gone.
import { describe, expect, it } from "vitest";
import { exitReason } from "../../gateway/devnet/processes.ts";

describe("exitReason", () => {
  it("gives the CLI's last error line", () => {
    expect(exitReason("gateway starting\nmote: data directory is locked by pid 7 [DATA_DIR_LOCKED]\n")).toBe(": data directory is locked by pid 7 [DATA_DIR_LOCKED]");
  });

  it("gives the last lines of an uncaught error's stack when the CLI said nothing", () => {
    const stack = ["node:events:497", "      throw er; // Unhandled 'error' event", "      ^", "", "Error: bind EADDRINUSE 127.0.0.1:25701", "    at node:dgram:364:20", "Emitted 'error' event on Socket instance", "    at process.processTicksAndRejections (node:internal/process/task_queues:83:21)", "Node.js v20.20.2", ""].join("\n");
    expect(exitReason(stack)).toBe(": ^ | Error: bind EADDRINUSE 127.0.0.1:25701 | at node:dgram:364:20 | Emitted 'error' event on Socket instance | at process.processTicksAndRejections (node:internal/process/task_queues:83:21) | Node.js v20.20.2");
  });

  it("is empty when the process said nothing", () => {
    expect(exitReason("")).toBe("");
    expect(exitReason("\n  \n")).toBe("");
  });
});
