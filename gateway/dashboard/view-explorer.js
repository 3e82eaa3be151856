// The block and transaction explorer: blocks newest first (live on the first page), one block
// with its header, certificate and transactions, one transaction with its decoded body.
import { get } from "./api.js";
import { card, dateTime, fmtAmount, fmtInt, h, hash, kv, mount, pill, table, tick } from "./dom.js";
import { ageTicker, blockRow } from "./view-network.js";

const blockHeaders = ["Height", "Hash", "Time", { label: "Txs", num: true }, { label: "Readings", num: true }, "Proposer"];

export async function renderBlocks(view, _params, ctx) {
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const tops = [undefined];
  let page = 0;
  const load = async () => {
    const res = await get(`/v1/blocks?limit=25${tops[page] !== undefined ? `&cursor=${tops[page]}` : ""}`);
    tops[page + 1] = res.next ?? undefined;
    body.replaceChildren(...res.items.map((b) => blockRow(b, false)));
    mount(
      pager,
      h("button", { class: "btn", disabled: page === 0, onclick: () => ((page -= 1), void load()) }, "← Newer"),
      h("button", { class: "btn", disabled: !res.next, onclick: () => ((page += 1), void load()) }, "Older →"),
    );
  };
  await load();
  mount(
    view,
    h("div", { class: "page-title" }, h("h1", {}, "Blocks"), h("span", { class: "sub" }, "every block here is final")),
    card("Finalized blocks", "newest first", h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, blockHeaders.map((x) => h("th", { class: x.num ? "num" : undefined }, x.label ?? x)))), body)), pager),
  );
  const off = ctx.onBlock((b) => {
    if (page !== 0 || body.querySelector(`[data-height="${b.height}"]`)) return;
    body.prepend(blockRow(b, true));
    while (body.children.length > 25) body.lastChild.remove();
  });
  const stopTicker = ageTicker(view);
  return () => {
    off();
    stopTicker();
  };
}

function certificateCard(b) {
  const c = b.certificate;
  if (!c) return card("Commit certificate", "genesis has none", h("div", { class: "empty" }, "The genesis block is not certified: every node derives it from the genesis file."));
  const check = c.check;
  const rows = (c.signatures ?? []).map((s) => {
    const signer = check.signers.find((x) => x.validatorId === s.validatorId);
    return h("tr", {}, h("td", {}, hash(s.validatorId)), h("td", {}, hash(s.signature, { n: 12 })), h("td", {}, tick(signer?.valid && signer?.inSet)));
  });
  return card(
    "Commit certificate",
    check.valid ? pill("good", `quorum ${check.signers.filter((s) => s.valid && s.inSet).length} / ${check.quorum} of ${check.setSize}`) : pill("bad", "not a valid quorum"),
    h("div", { class: "card-body" }, kv([["Round", fmtInt(c.round)], ["Signed block", hash(c.blockHash, { n: 0 })]])),
    table(["Validator", "Signature", "Valid"], rows, "No signatures"),
  );
}

export async function renderBlock(view, [id]) {
  const b = await get(`/v1/blocks/${id}`);
  const txRows = b.txs.map((t) =>
    h("tr", {}, h("td", { class: "num" }, t.index), h("td", {}, hash(t.id, { href: `#/txs/${t.id}`, n: 12 })), h("td", {}, h("span", { class: "badge" }, t.kind ?? "?")), h("td", {}, hash(t.author))),
  );
  const nav = h(
    "span",
    { class: "nowrap" },
    b.height > 0 ? h("a", { class: "btn", href: `#/blocks/${b.height - 1}` }, "← ", fmtInt(b.height - 1)) : null,
    " ",
    h("a", { class: "btn", href: `#/blocks/${b.height + 1}` }, fmtInt(b.height + 1), " →"),
  );
  mount(
    view,
    h("div", { class: "crumbs" }, h("a", { href: "#/blocks" }, "Blocks"), " / block"),
    h("div", { class: "page-title" }, h("h1", {}, `Block ${fmtInt(b.height)}`), h("span", { class: "sub" }, dateTime(b.timeMs)), nav),
    h(
      "div",
      { class: "grid wide-left" },
      h(
        "div",
        { class: "grid" },
        card(
          "Header",
          "the block's hash is SHA-256 of this header",
          h(
            "div",
            { class: "card-body" },
            kv([
              ["Hash", hash(b.hash, { n: 0 })],
              ["Previous", hash(b.previousHash, { n: 0, href: b.height > 0 ? `#/blocks/${b.height - 1}` : undefined })],
              ["Proposer", hash(b.proposer, { n: 0 })],
              ["Transactions root", hash(b.txRoot, { n: 0 })],
              ["State root", hash(b.stateRoot, { n: 0 })],
              ["Validator set", hash(b.validatorSetHash, { n: 0 })],
              ["Next validator set", hash(b.nextValidatorSetHash, { n: 0 })],
              ["Previous certificate", hash(b.lastCommitHash, { n: 0 })],
              ["Results root", hash(b.resultsRoot, { n: 0 })],
              ["Readings", fmtInt(b.readings)],
            ]),
          ),
        ),
        card("Transactions", `${fmtInt(b.txCount)} in this block`, table(["#", "Id", "Kind", "Author"], txRows, "An empty block: it advances time and pays the proposer")),
      ),
      certificateCard(b),
    ),
  );
}

function bodyPairs(tx) {
  const b = tx.body;
  switch (tx.kind) {
    case "transfer":
      return [["To", hash(b.to, { n: 0 })], ["Amount", fmtAmount(b.amount)]];
    case "stake":
    case "unstake":
      return [["Amount", fmtAmount(b.amount)]];
    case "vote":
      return [["Candidates", b.candidates.map((c) => h("div", {}, hash(c, { n: 0 })))]];
    case "enrollDevice":
      return [["Device key", hash(b.devicePublicKey, { n: 0 })], ["Metadata", Object.entries(b.metadata).map(([k, v]) => h("span", { class: "chip" }, `${k}: ${v}`))], ["Kept", b.ttlDays ? `${b.ttlDays} days` : "forever"]];
    case "readingBatch":
      return [
        ["Co-signed by", hash(b.attestation.gatewayId, { n: 0 })],
        ["Merkle root", hash(b.attestation.root, { n: 0 })],
        ["Signature", hash(b.attestation.signature, { n: 16 })],
        ["Readings", `${fmtInt(b.readingsTotal)}${b.readingsTotal > b.readings.length ? ` (first ${b.readings.length} listed)` : ""}`],
      ];
    case "deployContract":
      return [
        ["Contract", hash(b.contractId, { n: 0, href: `#/contracts/${b.contractId}` })],
        ["Code", h("span", {}, hash(b.codeHash, { n: 12 }), ` · ${fmtInt(b.codeBytes)} bytes`)],
        ["Subscribed to", b.criteria.length ? b.criteria.map((c) => h("span", { class: "chip" }, c.kind === "metadata" ? `${c.key} = ${c.value}` : `${c.kind} ${c.deviceId ?? c.ownerId}`)) : "calls only"],
        ["Gas per reading run", fmtInt(b.readingGasLimit)],
      ];
    case "callContract":
      return [
        ["Contract", hash(b.contractId, { n: 0, href: `#/contracts/${b.contractId}` })],
        ["Method", h("span", { class: "mono" }, b.method)],
        ["Input", b.input ? hash(b.input, { n: 16 }) : "none"],
        ["Gas limit", fmtInt(b.gasLimit)],
        ["Amount", fmtAmount(b.amount)],
      ];
    default:
      return Object.entries(b).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]);
  }
}

function runRow(r) {
  return h(
    "tr",
    {},
    h("td", {}, hash(r.contractId, { href: `#/contracts/${r.contractId}` })),
    h("td", {}, r.position === null ? "call" : `#${r.position}`),
    h("td", { class: "num" }, fmtInt(r.gasUsed)),
    h("td", {}, r.failure ? pill("bad", r.failure) : pill("good", "completed")),
    h("td", {}, r.events.map((e) => h("span", { class: "badge" }, e.topicText ?? e.topic))),
  );
}

export async function renderTx(view, [id]) {
  const tx = await get(`/v1/txs/${id}`);
  const readingRows =
    tx.kind === "readingBatch"
      ? tx.body.readings.map((r, i) =>
          h(
            "tr",
            {},
            h("td", { class: "num" }, i),
            h("td", {}, r.deviceId ? h("a", { class: "mono", href: `#/devices/${r.deviceId}` }, r.deviceId) : "—"),
            h("td", { class: "num" }, r.sequence ?? "—"),
            h("td", {}, dateTime(r.receivedAtMs)),
            h("td", {}, r.deviceId && tx.status === "finalized" ? h("a", { class: "btn", href: `#/readings/${r.deviceId}/${r.sequence}` }, "Provenance") : null),
          ),
        )
      : null;
  mount(
    view,
    h("div", { class: "crumbs" }, h("a", { href: "#/blocks" }, "Blocks"), " / transaction"),
    h("div", { class: "page-title" }, h("h1", {}, "Transaction"), h("span", { class: "badge" }, tx.kind), tx.status === "finalized" ? pill("good", "finalized") : pill("warn", "pending")),
    h(
      "div",
      { class: "grid" },
      card(
        "Envelope",
        "signed by its author with Ed25519",
        h(
          "div",
          { class: "card-body" },
          kv([
            ["Id", hash(tx.id, { n: 0 })],
            ["Block", tx.status === "finalized" ? h("span", {}, h("a", { href: `#/blocks/${tx.height}` }, fmtInt(tx.height)), ` · index ${tx.index}`) : "waiting in the mempool"],
            ["Author", hash(tx.author, { n: 0 })],
            ["Nonce", fmtInt(tx.nonce)],
            ["Fee", fmtAmount(tx.fee)],
            ["Size", `${fmtInt(tx.bytes)} bytes`],
            ...bodyPairs(tx),
          ]),
        ),
      ),
      readingRows ? card("Readings", "each links to its provenance", table([{ label: "#", num: true }, "Device", { label: "Seq", num: true }, "Received", ""], readingRows)) : null,
      tx.result?.runs ? card("Contract runs", tx.result.failure ? `failed: ${tx.result.failure}` : `${fmtInt(tx.result.runsTotal)} in this transaction`, table(["Contract", "Reading", { label: "Gas", num: true }, "Outcome", "Events"], tx.result.runs.map(runRow))) : null,
    ),
  );
}
