// Contracts: the deployed ones with their balance and the gas they used; one contract with its
// subscriptions, methods, gas per recent run (bars), its events (newest first, paged) and its
// storage entries with their state proofs. Both pages refresh when a block is finalized.
import { get } from "./api.js";
import { card, fmtAmount, fmtInt, h, hash, kv, mount, pill, table, tick } from "./dom.js";

const eventsPerPage = 25;

function criterionText(c) {
  if (c.kind === "metadata") return `${c.key} = ${c.value}`;
  return `${c.kind} ${c.deviceId ?? c.ownerId}`;
}

function contractRow(c) {
  return h(
    "tr",
    { dataset: { contract: c.id } },
    h("td", {}, hash(c.id, { href: `#/contracts/${c.id}` })),
    h("td", {}, hash(c.owner)),
    h("td", {}, c.criteria.length ? c.criteria.map((x) => h("span", { class: "chip" }, criterionText(x))) : h("span", { class: "muted" }, "calls only")),
    h("td", { class: "num" }, fmtAmount(c.balance)),
    h("td", { class: "num" }, fmtInt(c.runs)),
    h("td", { class: "num" }, fmtInt(c.gasUsed)),
    h("td", { class: "num" }, fmtInt(c.events)),
  );
}

export async function renderContracts(view, _params, ctx) {
  const body = h("tbody");
  const load = async () => {
    const res = await get("/v1/contracts?limit=100");
    body.replaceChildren(...res.items.map(contractRow));
    return res;
  };
  const res = await load();
  const headers = ["Contract", "Owner", "Subscribed to", { label: "Balance", num: true }, { label: "Runs", num: true }, { label: "Gas used", num: true }, { label: "Events", num: true }];
  mount(
    view,
    h("div", { class: "page-title" }, h("h1", {}, "Contracts"), h("span", { class: "sub" }, "WebAssembly run by every validator, metered by gas")),
    card(
      "Deployed contracts",
      res.next ? "first 100" : `${fmtInt(res.items.length)} on chain`,
      res.items.length === 0
        ? h("div", { class: "empty" }, "No contract yet: `mote contract deploy` puts one on chain")
        : h("div", { class: "table-wrap" }, h("table", { "data-testid": "contracts-table" }, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { class: x.num ? "num" : undefined }, x.label ?? x)))), body)),
    ),
  );
  return ctx.onBlock(() => void load().catch(() => {}));
}

/** Gas of the latest runs as bars, oldest on the left; failed runs in the warning colour. */
function gasBars(runs) {
  const ns = "http://www.w3.org/2000/svg";
  const list = [...runs].reverse();
  const width = 640;
  const height = 120;
  const max = Math.max(1, ...list.map((r) => r.gasUsed));
  const step = width / Math.max(list.length, 1);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "gas-bars");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `gas used by the last ${list.length} runs`);
  svg.dataset.testid = "contract-gas-bars";
  svg.dataset.runs = String(list.length);
  for (const [i, r] of list.entries()) {
    const barH = Math.max(1, Math.round((r.gasUsed / max) * (height - 4)));
    const rect = document.createElementNS(ns, "rect");
    for (const [k, v] of Object.entries({ x: i * step + 1, y: height - barH, width: Math.max(1, step - 2), height: barH, rx: 1 })) rect.setAttribute(k, String(v));
    rect.setAttribute("class", r.failure ? "bar bad" : "bar");
    const title = document.createElementNS(ns, "title");
    title.textContent = `block ${r.height}, ${r.position === null ? "call" : `reading #${r.position}`}: ${fmtInt(r.gasUsed)} gas${r.failure ? `, ${r.failure}` : ""}`;
    rect.append(title);
    svg.append(rect);
  }
  return svg;
}

function eventRow(e) {
  return h(
    "tr",
    { dataset: { topic: e.topicText ?? e.topic } },
    h("td", {}, h("a", { href: `#/blocks/${e.height}` }, fmtInt(e.height))),
    h("td", { class: "num" }, e.txIndex),
    h("td", {}, e.position === null ? h("span", { class: "badge" }, "call") : `reading #${e.position}`),
    h("td", {}, h("span", { class: "badge" }, e.topicText ?? e.topic)),
    h("td", {}, hash(e.data, { n: 16 })),
  );
}

function storageRow(s) {
  const text = /^([2-7][0-9a-e])+$/.test(s.key) ? String.fromCharCode(...s.key.match(/../g).map((x) => parseInt(x, 16))) : null;
  return h("tr", {}, h("td", {}, hash(s.key, { n: 12 }), text ? h("span", { class: "muted" }, ` "${text}"`) : null), h("td", {}, hash(s.value, { n: 12 })), h("td", {}, tick(s.proof.valid)));
}

export async function renderContract(view, [id], ctx) {
  const eventsBody = h("tbody", { "data-testid": "contract-events" });
  const pager = h("div", { class: "pager" });
  const cursors = [undefined];
  let page = 0;
  const loadEvents = async () => {
    const res = await get(`/v1/contracts/${id}/events?limit=${eventsPerPage}${cursors[page] ? `&cursor=${cursors[page]}` : ""}`);
    cursors[page + 1] = res.next ?? undefined;
    eventsBody.replaceChildren(...res.items.map(eventRow));
    mount(
      pager,
      h("button", { class: "btn", disabled: page === 0, onclick: () => ((page -= 1), void loadEvents()) }, "← Newer"),
      h("button", { class: "btn", disabled: !res.next, onclick: () => ((page += 1), void loadEvents()) }, "Older →"),
    );
    return res;
  };
  const summary = h("div", { class: "card-body" });
  const bars = h("div", { class: "card-body" });
  const storage = h("div");
  const loadContract = async () => {
    const [c, s] = await Promise.all([get(`/v1/contracts/${id}`), get(`/v1/contracts/${id}/storage?limit=50`)]);
    mount(
      summary,
      kv([
        ["Id", hash(c.id, { n: 0 })],
        ["Owner", hash(c.owner, { n: 0 })],
        ["Code", h("span", {}, hash(c.codeHash, { n: 12 }), ` · ${fmtInt(c.codeBytes)} bytes · deployed in `, h("a", { href: `#/blocks/${c.deployedHeight}` }, fmtInt(c.deployedHeight)))],
        ["Subscribed to", c.criteria.length ? c.criteria.map((x) => h("span", { class: "chip" }, criterionText(x))) : "calls only"],
        ["Methods", c.methods.length ? c.methods.map((m) => h("span", { class: "chip mono" }, m)) : "—"],
        ["Balance", fmtAmount(c.balance)],
        ["Gas per reading run", fmtInt(c.readingGasLimit)],
        ["Runs", h("span", { "data-testid": "contract-runs" }, `${fmtInt(c.runs)}${c.failedRuns ? ` (${fmtInt(c.failedRuns)} failed)` : ""}`)],
        ["Gas used", h("span", { "data-testid": "contract-gas-used" }, fmtInt(c.gasUsed))],
        ["Record", c.record.valid ? pill("good", `proven at height ${fmtInt(c.atHeight)}`) : pill("bad", "proof does not verify")],
      ]),
    );
    mount(bars, c.recentRuns.length ? gasBars(c.recentRuns) : h("div", { class: "empty" }, "No run yet"));
    mount(storage, table(["Key", "Value", "Proof"], s.items.map(storageRow), "Empty storage"));
    return c;
  };
  const c = await loadContract();
  await loadEvents();
  mount(
    view,
    h("div", { class: "crumbs" }, h("a", { href: "#/contracts" }, "Contracts"), " / contract"),
    h("div", { class: "page-title" }, h("h1", {}, "Contract"), h("span", { class: "sub mono" }, c.id)),
    h(
      "div",
      { class: "grid wide-left" },
      h(
        "div",
        { class: "grid" },
        card("Contract", "its record, proven against the head's state root", summary),
        card("Events", "newest first", h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["Block", { label: "Tx", num: true }, "Run", "Topic", "Data"].map((x) => h("th", { class: x.num ? "num" : undefined }, x.label ?? x)))), eventsBody)), pager),
      ),
      h("div", { class: "grid" }, card("Gas per run", "its latest runs (at most 50), oldest left; failed in red", bars), card("Storage", "each entry with its state proof", storage)),
    ),
  );
  // A new block may hold new runs: refresh the summary, and the events' first page.
  return ctx.onBlock(() => {
    void loadContract().catch(() => {});
    if (page === 0) void loadEvents().catch(() => {});
  });
}
