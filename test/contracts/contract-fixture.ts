// Shared by the contract tests: the three example contracts built once per test file with the
// real AssemblyScript compiler, and helpers that sign deploy and call transactions.
import { signTx, txVersion, type ContractCriterion } from "../../shared/tx.ts";
import type { Chain } from "../../gateway/chain/chain.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { minimumFee } from "../../gateway/chain/apply-tx.ts";
import { contractVmReady } from "../../gateway/contracts/binaryen.ts";
import { buildContract } from "../../gateway/contracts/build.ts";
import { contractIdOf } from "../../gateway/contracts/records.ts";

export const exampleNames = ["threshold-alarm", "pay-per-reading", "hourly-aggregate"] as const;
export type ExampleName = (typeof exampleNames)[number];

let built: Promise<Record<ExampleName, Uint8Array>> | undefined;

/** The examples' WebAssembly, compiled from contracts/examples/*.ts. */
export function examples(): Promise<Record<ExampleName, Uint8Array>> {
  built ??= (async () => {
    await contractVmReady();
    const out = {} as Record<ExampleName, Uint8Array>;
    for (const n of exampleNames) out[n] = (await buildContract(`contracts/examples/${n}.ts`)).code;
    return out;
  })();
  return built;
}

/** A deployContract at `nonce`, paying the least fee; returns its bytes and the contract's id. */
export function deployTx(chain: Chain, who: Identity, nonce: number, code: Uint8Array, criteria: ContractCriterion[] = [], readingGasLimit = 200_000): { bytes: Uint8Array; id: Uint8Array } {
  const body = { kind: "deployContract" as const, code, criteria, readingGasLimit };
  const fee = minimumFee(body, chain.params());
  return { bytes: signTx(who.key, chain.chainId, { version: txVersion, author: who.publicKey, nonce, fee, body }), id: contractIdOf(who.id, nonce) };
}

export function callTx(chain: Chain, who: Identity, nonce: number, contractId: Uint8Array, method: string, input: Uint8Array = new Uint8Array(0), gasLimit = 1_000_000, amount = 0n): Uint8Array {
  const body = { kind: "callContract" as const, contractId, method, input, gasLimit, amount };
  const fee = minimumFee(body, chain.params());
  return signTx(who.key, chain.chainId, { version: txVersion, author: who.publicKey, nonce, fee, body });
}

export function i64le(...values: bigint[]): Uint8Array {
  const out = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => out.writeBigInt64LE(v, 8 * i));
  return new Uint8Array(out);
}
