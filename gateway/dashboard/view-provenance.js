// A reading's provenance (clause 8.7): the chain of custody from the device's signature to the
// chain state, each link with the material to check it and the gateway's verdict. The state link
// has two steps (gateway/chain/reading-proof.ts): the device's record under the head's state root,
// then the reading in the device's append-only log, whose root the record's frontier gives.
// The certificate step also shows the walk from genesis to the block's validator set and the head
// (one hand-over per epoch), so a reading from any epoch, however old, is checked the same way.
import { get } from "./api.js";
import { card, dateTime, fmtInt, h, hash, kv, mount, pill, tick } from "./dom.js";

function step(ok, title, why, body) {
  return h(
    "li",
    { class: `step${ok ? "" : " fail"}`, "data-testid": "provenance-step", "data-ok": ok ? "true" : "false" },
    h("span", { class: "mark" }, ok ? "✓" : "✗"),
    card(h("span", {}, title, " ", h("span", { class: "why" }, why)), ok ? pill("good", "verified") : pill("bad", "failed"), h("div", { class: "card-body" }, body)),
  );
}

/** The light client's walk: genesis, then each epoch's last header announcing the next set. */
function epochWalk(e) {
  if (!e) return h("div", { class: "muted" }, "no epoch walk served");
  const status = e.valid === true ? "checked from genesis" : e.valid === false ? `fails: ${e.problem}` : `not checked: ${e.problem}`;
  return h(
    "div",
    { "data-testid": "epoch-walk", "data-valid": String(e.valid), "data-transitions": String(e.transitions.length) },
    kv([
      ["Block's epoch", `${fmtInt(e.blockEpoch)} (epochs of ${fmtInt(e.epochBlocks)} blocks; the head is in epoch ${fmtInt(e.headEpoch)})`],
      ["From genesis", h("span", {}, tick(e.valid === true), ` ${fmtInt(e.transitions.length)} set hand-over(s) to the head's epoch, each certified by the set before it: ${status}`)],
      ["Genesis", hash(e.genesisHash, { n: 12 })],
    ]),
    e.transitions.length
      ? h(
          "details",
          {},
          h("summary", {}, `Hand-overs (${e.transitions.length}${e.complete ? "" : ", more via " + e.next})`),
          h(
            "ol",
            { start: "0" },
            e.transitions.map((t) => h("li", {}, `epoch ${fmtInt(t.epoch)} ends at block ${fmtInt(t.height)}, certified${t.certificate ? "" : " (certificate missing)"}; next set `, hash(t.nextSetHash, { n: 12 }))),
          ),
        )
      : null,
  );
}

function path(label, items) {
  if (!items.length) return h("div", { class: "muted" }, `${label}: none (the tree has one leaf)`);
  return h("details", {}, h("summary", {}, `${label} (${items.length} hashes)`), h("ol", {}, items.map((x) => h("li", {}, h("span", { class: "hash" }, x)))));
}

export async function renderProvenance(view, [deviceId, seq]) {
  const p = await get(`/v1/devices/${deviceId}/readings/${seq}`);
  const r = p.reading;
  // An expired reading (docs/expiry.md): values and bytes pruned on every gateway, its digest still proven.
  const values = r.records === null ? `expired${r.expiredAtMs ? ` ${dateTime(r.expiredAtMs)}` : ""}: values pruned` : r.records.map((x) => `${x.name} ${x.value ?? x.stringValue ?? x.boolValue ?? (x.dataValue ? `sha256:${x.dataValue.slice(0, 12)}…` : "")}${x.unit ? " " + x.unit : ""}`).join(", ");
  const c = p.certificate;
  const counted = c.signers.filter((s) => s.valid && s.inSet).length;
  const st = p.state;
  const log = st.log;
  const walkOk = !p.epochs || p.epochs.valid !== false;
  mount(
    view,
    h("div", { class: "crumbs" }, h("a", { href: "#/devices" }, "Devices"), " / ", h("a", { href: `#/devices/${deviceId}`, class: "mono" }, deviceId), " / reading"),
    h("div", { class: "page-title" }, h("h1", {}, `Reading #${fmtInt(r.sequence)}`), h("span", { class: "sub" }, `${values} · received ${dateTime(r.receivedAtMs)}`)),
    h(
      "div",
      { class: `verdict ${p.verified ? "good" : "bad"}`, "data-testid": "provenance-verdict", "data-verified": String(p.verified) },
      h("span", { class: "icon" }, p.verified ? "✓" : "!"),
      h(
        "div",
        {},
        h("div", { class: "big" }, p.verified ? "Verified" : "Not verified"),
        h(
          "div",
          {},
          p.verified
            ? `${p.device === null ? "Expired (its bytes pruned); its digest, recorded from a reading signed" : "Signed"} by device ${deviceId.slice(0, 8)}…, co-signed by gateway ${p.gateway.id.slice(0, 8)}…, final in block ${fmtInt(r.height)} (epoch ${fmtInt(p.epochs?.blockEpoch ?? 0)}) under a quorum of ${counted} validator signature(s), leaf ${fmtInt(log.index)} (from 0) of ${fmtInt(log.size)} in the device's reading log under the state root at height ${fmtInt(st.atHeight)}.`
            : "At least one link below does not check; do not rely on this reading.",
        ),
      ),
    ),
    h(
      "ol",
      { class: "chain-steps" },
      p.device === null
        ? step(true, "1 · Signed by the device", "expired: the signed bytes were pruned; the digest below is what the rest proves", kv([["Device", h("a", { href: `#/devices/${deviceId}`, class: "mono" }, deviceId)], ["Sequence", fmtInt(r.sequence)], ["Values", values], ["Digest (SHA-256)", hash(r.digest, { n: 0 })]]))
        : step(
        p.device.valid,
        "1 · Signed by the device",
        "COSE_Sign1 with Ed25519 (RFC 9052 §4.4)",
        kv([
          ["Device", h("a", { href: `#/devices/${deviceId}`, class: "mono" }, deviceId)],
          ["Public key (on chain)", hash(p.device.publicKey, { n: 0 })],
          ["Sequence", `${fmtInt(r.sequence)} (signed: replays are refused)`],
          ["Values", values],
          ["Signature", hash(p.device.signature, { n: 0 })],
          ["Signed bytes", hash(p.device.signedBytes, { n: 24 })],
          ["COSE_Sign1", hash(r.cose, { n: 24 })],
          ["Digest (SHA-256)", hash(r.digest, { n: 0 })],
        ]),
      ),
      step(
        p.gateway.valid,
        "2 · Co-signed by the gateway",
        "one signature over a Merkle root of the batch",
        h(
          "div",
          {},
          kv([
            ["Gateway", hash(p.gateway.id, { n: 0 })],
            ["Received at", dateTime(r.receivedAtMs)],
            ["Batch", `${fmtInt(p.gateway.attestation.count)} readings, this one at leaf ${p.gateway.leafIndex}`],
            ["Merkle root", hash(p.gateway.attestation.root, { n: 0 })],
            ["Gateway signature", hash(p.gateway.attestation.signature, { n: 0 })],
            ["Leaf", hash(p.gateway.leaf, { n: 0 })],
          ]),
          path("Audit path to the root", p.gateway.merklePath),
        ),
      ),
      step(
        p.block.txIncluded,
        `3 · Included in block ${fmtInt(r.height)}`,
        "the batch transaction is under the header's transactions root",
        h(
          "div",
          {},
          kv([
            ["Block", h("a", { href: `#/blocks/${r.height}` }, `${fmtInt(r.height)} · ${dateTime(p.block.header.timeMs)}`)],
            ["Block hash", hash(p.block.header.hash, { n: 0 })],
            ["Transaction", h("span", {}, hash(p.block.txId, { href: `#/txs/${p.block.txId}`, n: 12 }), ` · index ${p.block.txIndex} of ${p.block.txCount}`)],
            ["Transactions root", hash(p.block.header.txRoot, { n: 0 })],
            ["Proposer", hash(p.block.header.proposer, { n: 0 })],
          ]),
          path("Audit path to the transactions root", p.block.txMerklePath),
        ),
      ),
      step(
        c.valid && walkOk,
        "4 · Finalized by the validators",
        "a commit certificate: a quorum of the block's epoch's set signed the block hash; that set and the head's are reached from genesis",
        h(
          "div",
          {},
          kv([
            ["Quorum", c.quorum === null ? "the certifying set is not known to this gateway" : `${counted} valid of ${c.quorum} needed (set of ${c.setSize})`],
            ["Round", fmtInt(c.round ?? 0)],
            ["Signers", c.signers.map((s) => h("div", {}, tick(s.valid && s.inSet), " ", hash(s.validatorId, { n: 0 })))],
            ["Carried by the next block", c.canonical === null ? "not yet (this is the head)" : c.canonical ? "yes, the same certificate" : "another valid quorum"],
          ]),
          epochWalk(p.epochs),
        ),
      ),
      step(
        st.device.valid,
        "5 · Device record in the chain state",
        "sparse Merkle proof of the device's record against the head's state root",
        h(
          "div",
          {},
          kv([
            ["State key", h("span", { class: "mono" }, st.device.key)],
            ["At height", fmtInt(st.atHeight)],
            ["State root", hash(st.stateRoot, { n: 0 })],
            ["Device record", hash(st.device.value, { n: 24 })],
            ["Reading log", log ? `${fmtInt(log.size)} readings, frontier of ${log.frontier.length} subtree root(s)` : "—"],
          ]),
          log ? path("Log frontier (largest subtree first)", log.frontier) : null,
          path("Sibling hashes to the state root", st.device.siblings),
        ),
      ),
      step(
        Boolean(log && log.valid && log.matchesReading),
        "6 · Reading in the device's log",
        "RFC 6962 audit path from the reading's leaf to the log root of the record's frontier",
        log
          ? h(
              "div",
              {},
              kv([
                ["Position", `leaf ${fmtInt(log.index)} (from 0) of ${fmtInt(log.size)}`],
                ["Log root (from the frontier)", hash(log.root, { n: 0 })],
                ["Entry", `sequence ${fmtInt(log.record.sequence)} · block ${fmtInt(log.record.height)} · received ${dateTime(log.record.receivedAtMs)}`],
                ["Entry digest", hash(log.record.digest, { n: 0 })],
                ["Entry gateway", hash(log.record.gatewayId, { n: 0 })],
                ["Is this reading", h("span", {}, tick(log.matchesReading), log.matchesReading ? " digest, block, gateway and time match" : " the entry differs from this reading")],
                ["Leaf data (CBOR)", hash(log.leafData, { n: 24 })],
                ["Leaf hash", hash(log.leaf, { n: 0 })],
              ]),
              path("Audit path to the log root", log.auditPath),
            )
          : h("div", { class: "muted" }, "The chain has no log entry for this reading."),
      ),
    ),
  );
}
