// The dashboard's shell: a hash router over the views, one live stream of finalized blocks shared
// by every view, the search box, and the header's chain id and live indicator.
import { get, stream } from "./api.js";
import { errorView, h, mount } from "./dom.js";
import { renderNetwork, renderDevices } from "./view-network.js";
import { renderDevice } from "./view-device.js";
import { renderBlocks, renderBlock, renderTx } from "./view-explorer.js";
import { renderProvenance } from "./view-provenance.js";
import { renderFirmware } from "./view-firmware.js";
import { renderContract, renderContracts } from "./view-contracts.js";

const routes = [
  [/^$/, "network", renderNetwork],
  [/^devices$/, "devices", renderDevices],
  [/^devices\/([0-9a-f]{32})$/, "devices", renderDevice],
  [/^blocks$/, "blocks", renderBlocks],
  [/^blocks\/([0-9]+|[0-9a-f]{64})$/, "blocks", renderBlock],
  [/^txs\/([0-9a-f]{64})$/, "blocks", renderTx],
  [/^readings\/([0-9a-f]{32})\/([0-9]+)$/, "devices", renderProvenance],
  [/^firmware$/, "firmware", renderFirmware],
  [/^contracts$/, "contracts", renderContracts],
  [/^contracts\/([0-9a-f]{32})$/, "contracts", renderContract],
];

/** Block events fan out to whichever view is showing. */
const blockListeners = new Set();
const ctx = {
  onBlock(fn) {
    blockListeners.add(fn);
    return () => blockListeners.delete(fn);
  },
  setLive,
};

function setLive(state) {
  const el = document.getElementById("live");
  el.dataset.state = state;
  el.querySelector(".live-label").textContent = { open: "live", connecting: "connecting", closed: "offline" }[state] ?? state;
}

let cleanup = null;
let renderSeq = 0;

async function route() {
  const path = location.hash.replace(/^#\/?/, "").toLowerCase();
  const seq = ++renderSeq;
  cleanup?.();
  cleanup = null;
  const view = document.getElementById("view");
  const match = routes.map(([re, nav, fn]) => ({ m: path.match(re), nav, fn })).find((r) => r.m);
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === match?.nav);
  if (!match) {
    mount(view, errorView({ code: "NOT_FOUND", message: `no page #/${path}` }));
    return;
  }
  try {
    const c = await match.fn(view, match.m.slice(1), ctx);
    if (seq === renderSeq) cleanup = c ?? null;
    else c?.();
  } catch (e) {
    if (seq === renderSeq) mount(view, errorView(e));
  }
  window.scrollTo(0, 0);
}

/** Height → block, 64 hex → block (or tx when no such block), 32 hex → device (or contract). */
async function search(q) {
  q = q.trim().toLowerCase();
  if (/^[0-9]{1,15}$/.test(q)) return (location.hash = `#/blocks/${q}`);
  if (/^[0-9a-f]{32}$/.test(q)) {
    // Devices and contracts both have 16-byte ids: a contract when no device has this one.
    const isContract = await get(`/v1/devices/${q}`).then(() => false, () => get(`/v1/contracts/${q}`).then(() => true, () => false));
    return (location.hash = isContract ? `#/contracts/${q}` : `#/devices/${q}`);
  }
  if (/^[0-9a-f]{64}$/.test(q)) {
    const isBlock = await get(`/v1/blocks/${q}`).then(() => true, () => false);
    return (location.hash = isBlock ? `#/blocks/${q}` : `#/txs/${q}`);
  }
  const input = document.getElementById("search-input");
  input.setCustomValidity("Enter a height, a 64-hex block hash or tx id, or a 32-hex device or contract id");
  input.reportValidity();
}

async function start() {
  document.getElementById("search").addEventListener("submit", (e) => {
    e.preventDefault();
    void search(document.getElementById("search-input").value);
  });
  document.getElementById("search-input").addEventListener("input", (e) => e.target.setCustomValidity(""));
  // /v1/health answers 503 while degraded, with the same body: read it either way.
  fetch("/v1/health")
    .then((r) => r.json())
    .then((hl) => {
      document.getElementById("chain-id").textContent = hl.chainId;
      document.getElementById("footer-node").replaceChildren(h("span", {}, "Gateway ", h("span", { class: "mono" }, hl.nodeId ?? "—"), ` · ${hl.consensus.mode === "solo" ? "single validator" : "PBFT"}`));
      document.title = `Moteledger · ${hl.chainId}`;
    })
    .catch(() => {});
  stream("events=block", { block: (b) => blockListeners.forEach((fn) => fn(b)) }, setLive);
  window.addEventListener("hashchange", route);
  await route();
}

void start();
