// A gateway's configuration: defaults, then the config file, then MOTE_* environment variables,
// then flags; each source validated, each error naming the key.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFromFlags } from "../../gateway/cli/gateway-command.ts";

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "mote-config-")), "gateway.json");
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const network = { genesis: "net/genesis.json", key: "net/gateway-1.key.json", consensus: "pbft", p2p: { host: "127.0.0.1", port: 7401 }, peers: ["127.0.0.1:7402"] };

describe("gateway configuration", () => {
  it("layers defaults < file < environment < flags", () => {
    const config = file({ dataDir: "/from/file", udp: { port: 6000 }, network, api: { port: 9000 } });
    const fromFile = configFromFlags({ config, udp: true }, {});
    expect([fromFile.dataDir, fromFile.udp?.port, fromFile.api?.port, fromFile.network?.peers]).toEqual(["/from/file", 6000, 9000, ["127.0.0.1:7402"]]);
    const env = { MOTE_DATA_DIR: "/from/env", MOTE_UDP_PORT: "6001", MOTE_API_PORT: "9001", MOTE_PEERS: "10.0.0.2:7401, 10.0.0.3:7401" };
    const fromEnv = configFromFlags({ config, udp: true }, env);
    expect([fromEnv.dataDir, fromEnv.udp?.port, fromEnv.api?.port, fromEnv.network?.peers]).toEqual(["/from/env", 6001, 9001, ["10.0.0.2:7401", "10.0.0.3:7401"]]);
    const fromFlags = configFromFlags({ config, udp: true, dataDir: "/from/flags", udpPort: "6002", apiPort: "9002" }, env);
    expect([fromFlags.dataDir, fromFlags.udp?.port, fromFlags.api?.port]).toEqual(["/from/flags", 6002, 9002]);
  });

  it("turns on the API with the chain, and refuses an API without one", () => {
    const c = configFromFlags({ udp: true, genesis: "g.json", key: "k.json" }, {});
    expect(c.network).toMatchObject({ genesis: "g.json", key: "k.json", consensus: "pbft" });
    expect(c.api).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(() => configFromFlags({ udp: true, apiPort: "9000" }, {})).toThrowError(/"api".*network/);
  });

  it("names the key that is wrong", () => {
    expect(() => configFromFlags({ udp: true }, { MOTE_UDP_PORT: "many" })).toThrowError(/udp\.port/);
    expect(() => configFromFlags({ udp: true }, { MOTE_GENESIS: "g.json", MOTE_KEY: "k.json", MOTE_CONSENSUS: "raft" })).toThrowError(/network\.consensus/);
    expect(() => configFromFlags({ udp: true }, { MOTE_GENESIS: "g.json" })).toThrowError(/network\.key/);
    expect(() => configFromFlags({ config: file({ netwrok: {} }), udp: true }, {})).toThrowError(/netwrok.*unknown key/);
    expect(() => configFromFlags({ config: file({ network: { ...network, peers: ["nohost"] } }), udp: true }, {})).toThrowError(/network\.peers\[0\]/);
  });
});
