// Network status: the head and finality, consensus, validators with their votes and stake, the
// latest blocks (live), and the devices with their last reading. Also the full devices page.
import { get } from "./api.js";
import { ago, card, fmtAmount, fmtInt, fmtMs, h, hash, mount, pill, short, table } from "./dom.js";

const latestBlocksShown = 12;

export function statusPill(status, lastMs) {
  if (status === "revoked") return pill("bad", "revoked");
  if (status === "quarantined") return pill("bad", "quarantined");
  if (!lastMs) return pill("muted", "no readings");
  return Date.now() - lastMs > 120_000 ? pill("warn", "silent") : pill("good", "reporting");
}

function stat(label, value, foot, testid) {
  return h("div", { class: "stat" }, h("div", { class: "label" }, label), h("div", { class: "value", "data-testid": testid }, value), h("div", { class: "foot" }, foot));
}

/**
 * Whether a validator's signature is in the head's commit certificate. A certificate needs only a
 * quorum of signatures, so a healthy validator whose vote arrived after the quorum is simply not
 * in it: a neutral mark, not a failure.
 */
function signedHeadMark(signed, quorum, total) {
  if (signed) return h("span", { class: "check", title: "its signature is in the head block's commit certificate", "data-signed": "yes" }, "✓");
  return h("span", { class: "neutral", title: `not among the head certificate's signers: a certificate needs only a quorum (${quorum} of ${total}), so this is normal for a healthy validator whose vote came after the quorum`, "data-signed": "no" }, "–");
}

function validatorRows(v) {
  return v.validators.map((x) =>
    h(
      "tr",
      {},
      h("td", { class: "num" }, x.rank + 1),
      h("td", {}, hash(x.id), x.proposing ? [" ", h("span", { class: "badge", title: "proposes the next block" }, "proposing")] : null),
      h("td", { class: "num" }, fmtAmount(x.power)),
      h("td", { class: "num" }, fmtAmount(x.votes)),
      h("td", { class: "num" }, fmtAmount(x.selfStake)),
      h("td", { class: "num" }, fmtInt(x.blocksProduced)),
      h("td", { class: "mono muted" }, x.endpoint ?? "—"),
      h("td", {}, signedHeadMark(x.signedHead, v.quorum, v.validators.length)),
    ),
  );
}

export function blockRow(b, isNew) {
  return h(
    "tr",
    { class: isNew ? "new" : undefined, "data-height": b.height },
    h("td", {}, h("a", { href: `#/blocks/${b.height}` }, fmtInt(b.height))),
    h("td", {}, hash(b.hash, { href: `#/blocks/${b.hash}`, n: 6 })),
    h("td", { class: "muted", "data-time": b.timeMs }, ago(b.timeMs)),
    h("td", { class: "num" }, fmtInt(b.txs)),
    h("td", { class: "num" }, fmtInt(b.readings)),
    h("td", {}, h("span", { class: "mono", title: b.proposer }, short(b.proposer, 6))),
  );
}

/** `chips`: metadata values shown per device (the overview has room for one). */
export function deviceRows(devices, chips = 3) {
  return devices.map((d) =>
    h(
      "tr",
      { "data-device": d.id },
      h("td", {}, h("a", { class: "mono", href: `#/devices/${d.id}`, title: d.id }, short(d.id, 8))),
      h("td", {}, Object.entries(d.metadata).slice(0, chips).map(([k, v]) => h("span", { class: "chip", title: k }, v))),
      h("td", {}, statusPill(d.status, d.lastReading?.receivedAtMs)),
      h("td", { class: "muted", "data-time": d.lastReading?.receivedAtMs ?? "" }, ago(d.lastReading?.receivedAtMs)),
      h("td", { class: "num" }, d.lastSequence < 0 ? "—" : fmtInt(d.lastSequence)),
      h("td", { class: "num" }, fmtInt(d.readings)),
    ),
  );
}

export const deviceHeaders = ["Device", "Metadata", "Status", "Last seen", { label: "Seq", num: true }, { label: "Readings", num: true }];
const blockHeaders = ["Height", "Hash", "Time", { label: "Txs", num: true }, { label: "Readings", num: true }, "Proposer"];

/** Re-renders every "x s ago" cell once a second. */
export function ageTicker(root) {
  const t = setInterval(() => {
    for (const el of root.querySelectorAll("[data-time]")) if (el.dataset.time) el.textContent = ago(Number(el.dataset.time));
  }, 1000);
  return () => clearInterval(t);
}

export async function renderNetwork(view, _params, ctx) {
  const [head, validators, blocks, devices] = await Promise.all([get("/v1/head"), get("/v1/validators"), get(`/v1/blocks?limit=${latestBlocksShown}`), get("/v1/devices?limit=100")]);
  const statsEl = h("div", { class: "stats" });
  const validatorsBody = h("div");
  const blocksBody = h("tbody");
  const devicesBody = h("div");
  let state = { head, validators, devices: devices.items };

  const renderStats = () => {
    const { head: hd, validators: v, devices: ds } = state;
    const active = ds.filter((d) => d.status === "active").length;
    const reporting = ds.filter((d) => d.lastReading && Date.now() - d.lastReading.receivedAtMs < 120_000).length;
    mount(
      statsEl,
      stat("Finalized height", fmtInt(hd.height), h("span", { "data-time": hd.timeMs }, ago(hd.timeMs)), "head-height"),
      stat("Finality latency", fmtMs(hd.finality.meanMs), `last ${fmtMs(hd.finality.lastMs)} · mean of ${hd.finality.blocks} blocks`, "finality"),
      stat("Consensus", hd.finality.mode === "solo" ? "Solo" : `PBFT r${hd.consensus.round}`, h("span", {}, "next proposer ", h("span", { class: "mono" }, short(v.nextProposer, 6))), "consensus"),
      stat("Validators", `${v.validators.length}`, `quorum ${v.quorum} · epoch ${v.epoch}`, "validators"),
      stat("Devices", `${reporting} / ${active}`, "reporting / active", "devices-count"),
    );
  };
  const renderValidators = () =>
    mount(
      validatorsBody,
      table(["#", "Validator", { label: "Power", num: true }, { label: "Votes", num: true }, { label: "Self-stake", num: true }, { label: "Blocks", num: true }, "Endpoint", "In head certificate"], validatorRows(state.validators)),
      h("p", { class: "note", "data-testid": "certificate-note" }, `✓ signed the head block's commit certificate; – not among its signers, which is normal: a certificate needs only a quorum (${state.validators.quorum} of ${state.validators.validators.length}) of signatures.`),
    );
  const renderDevices = () => mount(devicesBody, table(deviceHeaders, deviceRows(state.devices, 1), "No devices enrolled"));

  renderStats();
  renderValidators();
  renderDevices();
  blocksBody.append(...blocks.items.map((b) => blockRow(b, false)));

  mount(
    view,
    h("div", { class: "page-title" }, h("h1", {}, "Network"), h("span", { class: "sub" }, `${head.chainId} · ${head.finality.mode === "solo" ? "single validator (development)" : "PBFT"}`)),
    statsEl,
    card("Validators", `elected by stake-weighted votes · next election at block ${fmtInt(validators.nextEpochAtHeight)}`, validatorsBody),
    h(
      "div",
      { class: "grid two" },
      card("Devices", h("a", { href: "#/devices" }, "all devices →"), devicesBody),
      card("Latest blocks", "finalized, live", h("div", { class: "table-wrap" }, h("table", { "data-testid": "latest-blocks" }, h("thead", {}, h("tr", {}, blockHeaders.map((x) => h("th", { class: x.num ? "num" : undefined }, x.label ?? x)))), blocksBody))),
    ),
  );

  // Live: the block itself comes with the event; the rest is refreshed at most once a second.
  let refreshing = false;
  let lastRefreshMs = 0;
  const refresh = async () => {
    if (refreshing || Date.now() - lastRefreshMs < 1000) return;
    refreshing = true;
    lastRefreshMs = Date.now();
    try {
      const [hd, v, ds] = await Promise.all([get("/v1/head"), get("/v1/validators"), get("/v1/devices?limit=100")]);
      state = { head: hd, validators: v, devices: ds.items };
      renderStats();
      renderValidators();
      renderDevices();
    } catch {
      /* the live indicator shows connectivity; keep the last good data */
    } finally {
      refreshing = false;
    }
  };
  const off = ctx.onBlock((b) => {
    if (blocksBody.querySelector(`[data-height="${b.height}"]`)) return;
    blocksBody.prepend(blockRow(b, true));
    while (blocksBody.children.length > latestBlocksShown) blocksBody.lastChild.remove();
    state.head = { ...state.head, height: b.height, timeMs: b.timeMs, hash: b.hash };
    renderStats();
    statsEl.querySelector('[data-testid="head-height"]').classList.add("flash");
    void refresh();
  });
  const stopTicker = ageTicker(view);
  return () => {
    off();
    stopTicker();
  };
}

export async function renderDevices(view, _params, ctx) {
  const body = h("div");
  const pager = h("div", { class: "pager" });
  const cursors = [undefined];
  let page = 0;
  const load = async () => {
    const cursor = cursors[page];
    const res = await get(`/v1/devices?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
    cursors[page + 1] = res.next ?? undefined;
    mount(body, table(deviceHeaders, deviceRows(res.items), "No devices enrolled"));
    mount(
      pager,
      h("button", { class: "btn", disabled: page === 0, onclick: () => ((page -= 1), void load()) }, "← Previous"),
      h("button", { class: "btn", disabled: !res.next, onclick: () => ((page += 1), void load()) }, "Next →"),
    );
  };
  await load();
  mount(view, h("div", { class: "page-title" }, h("h1", {}, "Devices"), h("span", { class: "sub" }, "enrolled on chain, in id order")), card("Devices", "status from the last finalized reading", body, pager));
  // A block may carry readings of any device: reload the page, at most every 2 s.
  let lastMs = 0;
  const off = ctx.onBlock(() => {
    if (Date.now() - lastMs < 2000) return;
    lastMs = Date.now();
    void load().catch(() => {});
  });
  const stopTicker = ageTicker(view);
  return () => {
    off();
    stopTicker();
  };
}
