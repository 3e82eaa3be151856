// Builds, signs and submits a transaction for the account in a key file: the chain id and the
// next nonce come from the gateway, the signature never leaves this process.
import { toHex } from "../../shared/ed25519.ts";
import type { TxBody } from "../../shared/tx.ts";
import type { ApiClient } from "./api-client.ts";
import { CliError } from "./errors.ts";

export interface Submitted {
  id: string;
  kind: string;
  nonce: number;
}

/** `fee` must reach the chain's txFee parameter (1 in a `mote net init` genesis); the API says so if not. */
export async function submitTx(api: ApiClient, keyPath: string, body: TxBody, fee = 1n): Promise<Submitted> {
  // The transaction codec loads when a command signs, not with every `mote` start (npm run bench:cli).
  const [{ signTx, txVersion }, { readKeyFile }] = await Promise.all([import("../../shared/tx.ts"), import("../chain/keyfile.ts")]);
  const who = readKeyFile(keyPath);
  const [head, account] = await Promise.all([api.get("v1/head"), api.get(`v1/accounts/${toHex(who.id)}`)]);
  const bytes = signTx(who.key, head.chainId, { version: txVersion, author: who.publicKey, nonce: account.nextNonce, fee, body });
  const accepted = await api.post("v1/txs", { tx: Buffer.from(bytes).toString("hex"), encoding: "hex" });
  return { id: accepted.id, kind: body.kind, nonce: account.nextNonce };
}

/** Polls until the transaction is in a finalized block; returns its height. */
export async function waitFinalized(api: ApiClient, id: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tx = await api.get(`v1/txs/${id}`).catch(() => undefined);
    if (tx?.status === "finalized" || typeof tx?.height === "number") return tx.height;
    if (Date.now() > deadline) throw new CliError("NOT_FINALIZED", `transaction ${id} not finalized within ${timeoutMs} ms; check \`mote status\` and the gateway's log`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
