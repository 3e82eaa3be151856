// The crash test's network, shared by the test and its child process: one gateway validator (so
// each block's certificate is one signature), users and devices for a realistic mix of traffic.
import { toHex } from "../../shared/ed25519.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { makeFixture, type Fixture } from "./fixture.ts";

export function crashFixture(): { fixture: Fixture; signers: Map<string, Identity> } {
  const fixture = makeFixture({ gateways: 1, users: 10, devices: 8, label: "crash", params: { epochBlocks: 7, unbondingBlocks: 2 } });
  const signers = new Map<string, Identity>([...fixture.gateways, ...fixture.users, fixture.owner].map((p) => [toHex(p.id), p]));
  return { fixture, signers };
}
