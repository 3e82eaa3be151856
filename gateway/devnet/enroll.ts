// Enrolls a fleet's boards on chain with the network's owner key: one enrollDevice transaction per
// board not yet known, nonces assigned locally in sequence so they can all be submitted at once,
// then waits until every gateway's API shows every device: a board's first reading may go to any of
// them, and a gateway whose head trails by a vote's flight would refuse it as from an unknown device.
import { toHex } from "../../shared/ed25519.ts";
import { signTx, txVersion } from "../../shared/tx.ts";
import type { Identity } from "../chain/keyfile.ts";
import { MoteError } from "../../shared/errors.ts";

export interface EnrollTarget {
  publicKey: Uint8Array;
  deviceId: Uint8Array;
  label: string;
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

export async function enrollFleet(apiUrls: readonly string[], owner: Identity, targets: EnrollTarget[], timeoutMs: number, progress: (enrolled: number, total: number) => void): Promise<number> {
  const apiUrl = apiUrls[0];
  const known = await Promise.all(targets.map(async (t) => (await getJson(`${apiUrl}/v1/devices/${toHex(t.deviceId)}`)).status === 200));
  const missing = targets.filter((_, i) => !known[i]);
  if (missing.length > 0) {
    const head = (await getJson(`${apiUrl}/v1/head`)).body;
    let nonce = (await getJson(`${apiUrl}/v1/accounts/${toHex(owner.id)}`)).body.nextNonce as number;
    for (const t of missing) {
      const tx = signTx(owner.key, head.chainId, {
        version: txVersion,
        author: owner.publicKey,
        nonce: nonce++,
        fee: 1n, // the genesis txFee (chain params); enrollments carry no readings
        body: { kind: "enrollDevice", devicePublicKey: t.publicKey, metadata: new Map([["name", t.label]]), ttlDays: 0 },
      });
      const res = await fetch(`${apiUrl}/v1/txs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ tx: Buffer.from(tx).toString("hex"), encoding: "hex" }) });
      if (res.status !== 202 && res.status !== 409) throw new MoteError("ENROLL_REFUSED", `enrolling ${t.label} was refused (${res.status}): ${await res.text()}`);
    }
  }
  const enrolledOn = async (url: string): Promise<number> => {
    const page = (await getJson(`${url}/v1/devices?limit=500`)).body;
    const ids = new Set((page.items as { id: string }[]).map((d) => d.id));
    return targets.filter((t) => ids.has(toHex(t.deviceId))).length;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The fewest any gateway shows: the fleet starts only once each of them knows every board.
    const enrolled = Math.min(...(await Promise.all(apiUrls.map(enrolledOn))));
    progress(enrolled, targets.length);
    if (enrolled === targets.length) return missing.length;
    if (Date.now() > deadline) throw new MoteError("ENROLL_TIMEOUT", `only ${enrolled} of ${targets.length} devices enrolled on every gateway after ${timeoutMs} ms; is the chain finalizing blocks? (mote status)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
