// DOM building and formatting. Everything the chain returns (device metadata, endpoints) is
// untrusted text: it only ever reaches the page through textContent, never innerHTML.

/** h("td", { class: "num" }, "42", otherNode) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function mount(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

export const short = (hex, n = 8) => (hex && hex.length > 2 * n + 1 ? `${hex.slice(0, n)}…${hex.slice(-4)}` : hex ?? "—");

const svgNs = "http://www.w3.org/2000/svg";

/** Two overlapping rounded squares: drawn, not a font glyph (headless and minimal systems lack them). */
function copyIcon() {
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "12");
  svg.setAttribute("height", "12");
  for (const [x, y] of [[5, 5], [2, 2]]) {
    const r = document.createElementNS(svgNs, "rect");
    for (const [k, v] of Object.entries({ x, y, width: 9, height: 9, rx: 2, fill: x === 5 ? "currentColor" : "none", "fill-opacity": x === 5 ? "0.15" : "0", stroke: "currentColor", "stroke-width": 1.4 })) r.setAttribute(k, String(v));
    svg.append(r);
  }
  return svg;
}

/** A hash (shortened unless n is 0) with a copy button; the full value in the title. */
export function hash(hex, { n = 8, href } = {}) {
  if (!hex) return h("span", { class: "muted" }, "—");
  const text = h(href ? "a" : "span", { class: "hash", title: hex, href }, n ? short(hex, n) : hex);
  const copy = h("button", { class: "copy", type: "button", title: "Copy", "aria-label": "Copy", onclick: () => navigator.clipboard?.writeText(hex) }, copyIcon());
  return h("span", { class: n ? "nowrap" : "wrap" }, text, copy);
}

export const fmtInt = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"));

/** Amounts arrive as decimal strings (they may exceed 2^53): group digits without Number(). */
export const fmtAmount = (s) => String(s ?? "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function ago(timeMs, nowMs = Date.now()) {
  if (!timeMs) return "never";
  const s = Math.max(0, Math.round((nowMs - timeMs) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export const time = (ms) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
export const dateTime = (ms) => new Date(ms).toLocaleString("en-GB", { hour12: false });

export function pill(kind, text) {
  return h("span", { class: `pill ${kind}` }, text);
}

export const tick = (ok) => (ok ? h("span", { class: "check", title: "verified" }, "✓") : h("span", { class: "cross", title: "failed" }, "✗"));

export function card(title, hint, ...body) {
  return h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, title), hint ? h("span", { class: "hint" }, hint) : null), ...body);
}

export function table(headers, rows, emptyText = "Nothing yet") {
  if (rows.length === 0) return h("div", { class: "empty" }, emptyText);
  return h(
    "div",
    { class: "table-wrap" },
    h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { class: x.num ? "num" : undefined }, x.label ?? x)))), h("tbody", {}, rows)),
  );
}

export function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function errorView(e) {
  return h("div", { class: "error-box" }, h("strong", {}, e.code ?? "Error"), " — ", e.message);
}
