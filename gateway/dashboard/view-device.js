// One device: identity and status, a live chart of its readings (uPlot, fed by the readings API
// and then by the event stream), and its latest readings with links to their provenance.
import { get, stream } from "./api.js";
import { ReadingChart } from "./chart.js";
import { ago, card, dateTime, fmtInt, h, hash, kv, mount, table, time } from "./dom.js";
import { statusPill, ageTicker } from "./view-network.js";

const ranges = [
  ["15 min", 15 * 60_000],
  ["1 h", 3600_000],
  ["24 h", 24 * 3600_000],
];
const tableRowsMax = 25;
const chartPagesMax = 10;

/** Every reading of the device in the last `rangeMs`, oldest first (paged, bounded). */
async function loadReadings(id, rangeMs) {
  const from = Date.now() - rangeMs;
  const items = [];
  let cursor = null;
  for (let i = 0; i < chartPagesMax; i++) {
    const res = await get(`/v1/devices/${id}/readings?from=${from}&to=${Date.now() + 60_000}&order=asc&limit=500${cursor ? `&cursor=${cursor}` : ""}`);
    items.push(...res.items);
    cursor = res.next;
    if (!cursor) break;
  }
  return items;
}

// records is null once a reading expired (docs/expiry.md): shown as expired, never as missing.
const recordsOf = (r) => r.records ?? [];
const valueOf = (r, sensor) => recordsOf(r).find((x) => x.name === sensor && typeof x.value === "number");

function readingRow(r, isNew) {
  const values = r.records === null ? "expired: values pruned" : r.records.map((x) => `${x.value ?? x.stringValue ?? x.boolValue ?? (x.dataValue ? `sha256:${x.dataValue.slice(0, 12)}…` : "")}${x.unit ? " " + x.unit : ""}`).join(", ");
  return h(
    "tr",
    { class: isNew ? "new" : undefined, "data-seq": r.sequence },
    h("td", { class: "num" }, fmtInt(r.sequence)),
    h("td", { title: dateTime(r.receivedAtMs) }, time(r.receivedAtMs)),
    h("td", {}, recordsOf(r).map((x) => h("span", { class: "chip" }, x.name)), " ", values),
    h("td", {}, h("a", { href: `#/blocks/${r.height}` }, fmtInt(r.height))),
    h("td", {}, h("a", { class: "btn", href: `#/readings/${r.deviceId}/${r.sequence}`, "data-testid": "provenance-link" }, "Provenance")),
  );
}

/** The device's firmware record from the fleet view (version 0 = never reported), or null. */
async function loadFirmware(id) {
  const fleet = await get("/v1/firmware/fleet").catch(() => null);
  return fleet?.devices.find((d) => d.deviceId === id) ?? null;
}

function firmwareCell(fw) {
  if (!fw) return "—";
  return h(
    "span",
    { "data-testid": "device-firmware", "data-version": fw.version },
    fw.version ? h("a", { href: "#/firmware" }, `v${fw.version}`) : h("span", { class: "muted" }, "not reported"),
    fw.failures.map((f) => h("div", { class: "muted" }, `v${f.version} failed: ${f.reason} (block ${fmtInt(f.height)})`)),
  );
}


/** Why the device is refused, and what its owner can do (GET /v1/devices/:id quarantine). */
function quarantineText(q) {
  if (q.cause === "equivocation") return "two readings under one sequence number: the key is compromised; re-enroll the device with a new key";
  const since = q.sinceHeight === null ? "" : ` at block ${fmtInt(q.sinceHeight)}`;
  return `${q.reporters.length} gateways reported misbehaviour${since}; its owner can lift it (mote device lift)`;
}

export async function renderDevice(view, [id], _ctx) {
  const [device, firmware] = await Promise.all([get(`/v1/devices/${id}`), loadFirmware(id)]);
  let rangeMs = ranges[1][1];
  let readings = await loadReadings(id, rangeMs);
  const sensors = [...new Set(readings.flatMap((r) => recordsOf(r).map((x) => x.name)))];
  let sensor = sensors[0] ?? "temp";

  const head = h("div", { class: "card-body" });
  const renderHead = (d) =>
    mount(
      head,
      kv([
        ["Status", statusPill(d.status, d.lastReading?.receivedAtMs)],
        ["Last seen", h("span", { "data-time": d.lastReading?.receivedAtMs ?? "" }, ago(d.lastReading?.receivedAtMs))],
        ["Last sequence", h("span", { "data-testid": "device-seq" }, d.lastSequence < 0 ? "—" : fmtInt(d.lastSequence))],
        ["Readings on chain", fmtInt(d.readings)],
        ["Firmware", firmwareCell(firmware)],
        ["Public key", hash(d.publicKey, { n: 0 })],
        ["Owner", hash(d.owner, { n: 0 })],
        ["Enrolled at block", h("a", { href: `#/blocks/${d.enrolledHeight}` }, fmtInt(d.enrolledHeight))],
        ["Data kept", d.ttlDays ? `${d.ttlDays} days` : "forever"],
        ["Metadata", Object.keys(d.metadata).length ? Object.entries(d.metadata).map(([k, v]) => h("span", { class: "chip" }, `${k}: ${v}`)) : "—"],
        d.evidence ? ["Evidence", h("span", { "data-testid": "device-evidence" }, `${d.evidence} report(s) on chain`, ...(d.evidenceRecords ?? []).map((e) => h("div", { class: "muted" }, `block ${fmtInt(e.height)}: ${e.summary}`)))] : null,
        d.quarantine ? ["Quarantine", h("span", { "data-testid": "device-quarantine" }, quarantineText(d.quarantine))] : null,
      ]),
    );
  renderHead(device);

  const chartBox = h("div", { class: "chart", "data-testid": "chart" });
  const sensorTabs = h("div", { class: "tabs" });
  const rangeTabs = h("div", { class: "tabs" });
  const tbody = h("tbody");
  const tableBox = h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["Seq", "Received", "Values", "Block", ""].map((x) => h("th", { class: x === "Seq" ? "num" : undefined }, x)))), tbody));
  const fillTable = () => tbody.replaceChildren(...readings.slice(-tableRowsMax).reverse().map((r) => readingRow(r, false)));

  mount(
    view,
    h("div", { class: "crumbs" }, h("a", { href: "#/devices" }, "Devices"), " / device"),
    h("div", { class: "page-title" }, h("h1", { class: "mono" }, id), statusPill(device.status, device.lastReading?.receivedAtMs)),
    h(
      "div",
      { class: "grid wide-left" },
      h("div", { class: "grid" }, card(h("span", {}, "Readings "), h("span", { class: "nowrap" }, sensorTabs, " ", rangeTabs), chartBox), card("Latest readings", "finalized on chain", tableBox)),
      card("Device", "on-chain record", head),
    ),
  );

  const firstUnit = () => readings.map((r) => valueOf(r, sensor)).find(Boolean)?.unit ?? "";
  let chart = new ReadingChart(chartBox, { unit: firstUnit(), label: sensor });
  const plot = () => chart.set(readings.map((r) => ({ timeMs: r.receivedAtMs, value: valueOf(r, sensor)?.value })).filter((p) => p.value !== undefined));
  const renderTabs = () => {
    mount(sensorTabs, (sensors.length ? sensors : [sensor]).map((s) => h("button", { class: s === sensor ? "active" : undefined, onclick: () => switchSensor(s) }, s)));
    mount(rangeTabs, ranges.map(([label, ms]) => h("button", { class: ms === rangeMs ? "active" : undefined, onclick: () => switchRange(ms) }, label)));
  };
  const switchSensor = (s) => {
    sensor = s;
    chart.destroy();
    chart = new ReadingChart(chartBox, { unit: firstUnit(), label: sensor });
    plot();
    renderTabs();
  };
  const switchRange = async (ms) => {
    rangeMs = ms;
    readings = await loadReadings(id, rangeMs);
    plot();
    fillTable();
    renderTabs();
  };
  plot();
  fillTable();
  renderTabs();

  // Live: each finalized reading of this device arrives once on the stream.
  const seen = new Set(readings.map((r) => r.sequence));
  const close = stream(`events=reading,device&devices=${id}`, {
    // A revocation, a report or a lift: the status (and a quarantine's reason) is read afresh.
    device: () => get(`/v1/devices/${id}`).then((d) => (Object.assign(device, d), renderHead(device))).catch(() => {}),
    reading: (r) => {
      if (seen.has(r.sequence)) return;
      seen.add(r.sequence);
      readings.push(r);
      for (const x of recordsOf(r)) if (!sensors.includes(x.name)) (sensors.push(x.name), renderTabs());
      const v = valueOf(r, sensor);
      if (v) chart.add(r.receivedAtMs, v.value);
      tbody.prepend(readingRow(r, true));
      while (tbody.children.length > tableRowsMax) tbody.lastChild.remove();
      device.lastSequence = Math.max(device.lastSequence, r.sequence);
      device.readings += 1;
      device.lastReading = { sequence: r.sequence, receivedAtMs: r.receivedAtMs, height: r.height };
      // The first reading after a boot reports the running version (docs/firmware-update.md).
      const fw = recordsOf(r).find((x) => x.name === "fw" && typeof x.value === "number");
      if (firmware && fw && r.sequence > (firmware.reportedSequence ?? -1)) Object.assign(firmware, { version: fw.value, reportedSequence: r.sequence });
      renderHead(device);
    },
  });
  const stopTicker = ageTicker(view);
  return () => {
    close();
    stopTicker();
    chart.destroy();
  };
}
