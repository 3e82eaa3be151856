// Firmware (issue 11, docs/firmware-update.md): the fleet by the version each device reports in its own
// signed readings, the releases published on chain, and each rollout's progress with its failures.
// Everything comes from chain state through /v1/firmware/*; the page refreshes on finalized blocks.
import { get } from "./api.js";
import { card, fmtInt, h, hash, mount, pill, short, table } from "./dom.js";

/** Rollouts whose targets (for their failure reasons) are fetched on each refresh: the newest ones. */
const rolloutsDetailedMax = 5;
/** Rollouts shown; older ones stay in the API (GET /v1/firmware/rollouts). */
const rolloutsShownMax = 20;
const failuresShownMax = 50;
const refreshIntervalMsMin = 1000;

const versionLabel = (version, releases) => {
  if (version === 0) return "not reported";
  const text = releases.find((r) => r.version === version)?.versionText;
  return text ? `v${version} (${text})` : `v${version}`;
};

function stat(label, value, foot, testid) {
  return h("div", { class: "stat" }, h("div", { class: "label" }, label), h("div", { class: "value", "data-testid": testid }, value), h("div", { class: "foot" }, foot));
}

/**
 * A rollout is complete when no target is left to offer (every one updated, failed or inactive);
 * it still runs until its author stops it, so a device that reports an older version again is
 * offered the release again.
 */
function rolloutState(r) {
  if (!r.running) return "stopped";
  return r.counts.offered + r.counts.waiting === 0 ? "complete" : "running";
}

const statePills = { running: ["warn", "in progress"], complete: ["good", "complete"], stopped: ["muted", "stopped"] };

/** One bar, segments in the order a target moves through: updated, failed, inactive, offered, waiting. */
function progressBar(r) {
  const total = Math.max(1, r.targets);
  const segments = ["updated", "failed", "inactive", "offered", "waiting"].filter((k) => r.counts[k] > 0);
  return h(
    "div",
    { class: "fw-progress", role: "img", "aria-label": segments.map((k) => `${r.counts[k]} ${k}`).join(", ") },
    segments.map((k) => h("span", { class: `seg ${k}`, style: `width: ${(100 * r.counts[k]) / total}%`, title: `${r.counts[k]} ${k}` })),
  );
}

function fleetBars(fleet, releases) {
  const total = Math.max(1, fleet.devices.length);
  const newest = fleet.versions.reduce((m, v) => Math.max(m, v.version), 0); // the newest the fleet runs
  if (fleet.versions.length === 0) return h("div", { class: "empty" }, "No devices enrolled");
  return h(
    "div",
    { class: "fw-bars" },
    fleet.versions.map((v) =>
      h(
        "div",
        { class: "fw-bar-row", "data-testid": "fleet-version", "data-version": v.version, "data-devices": v.devices },
        h("span", { class: "fw-bar-label" }, versionLabel(v.version, releases)),
        h("span", { class: "fw-bar-track" }, h("span", { class: `fw-bar ${v.version === 0 ? "none" : v.version === newest ? "newest" : "older"}`, style: `width: ${(100 * v.devices) / total}%` })),
        h("span", { class: "fw-bar-count" }, `${fmtInt(v.devices)} device${v.devices === 1 ? "" : "s"}`),
      ),
    ),
  );
}

function releaseRows(releases) {
  return [...releases].reverse().map((r) =>
    h(
      "tr",
      { "data-testid": "release", "data-image": r.imageId },
      h("td", {}, h("strong", {}, `v${r.version}`), r.versionText ? h("span", { class: "muted" }, ` ${r.versionText}`) : null),
      h("td", {}, hash(r.imageId, { n: 0 })),
      h("td", {}, h("span", { class: "mono", title: `publisher key id (SHA-256 of the publisher's public key, first 8 bytes)` }, r.publisherKid)),
      h("td", { class: "num" }, `${fmtInt(r.imageBytes)} B`),
      h("td", { class: "num" }, r.abiVersion),
      h("td", {}, h("a", { href: `#/blocks/${r.height}` }, fmtInt(r.height))),
    ),
  );
}

function rolloutCounts(r) {
  const c = r.counts;
  return h(
    "div",
    { class: "fw-counts" },
    h("span", {}, h("strong", {}, fmtInt(r.targets)), " targets"),
    h("span", { class: "updated" }, h("strong", { "data-count": "updated" }, fmtInt(c.updated)), " updated"),
    h("span", { class: "failed" }, h("strong", { "data-count": "failed" }, fmtInt(c.failed)), " failed"),
    h("span", { class: "offered" }, h("strong", { "data-count": "offered" }, fmtInt(c.offered)), " offered"),
    h("span", { class: "waiting" }, h("strong", { "data-count": "waiting" }, fmtInt(c.waiting)), " waiting"),
    c.inactive ? h("span", { class: "inactive" }, h("strong", {}, fmtInt(c.inactive)), " inactive") : null,
    c.unsupported ? h("span", { class: "inactive", title: "reports version 0: a host without image slots" }, h("strong", {}, fmtInt(c.unsupported)), " cannot update") : null,
    h("span", { class: "muted" }, `${fmtInt(r.inFlightMax)} at a time`),
  );
}

function selectorText(s) {
  if (s.kind === "owner") return h("span", {}, "owner ", h("span", { class: "mono", title: s.owner }, short(s.owner, 6)));
  if (s.kind === "metadata") return h("span", {}, "metadata ", h("span", { class: "chip" }, `${s.key}=${s.value}`));
  return "device ids";
}

function rolloutBlock(r, detail) {
  const state = rolloutState(r);
  const failed = (detail?.targetList ?? []).filter((t) => t.status === "failed");
  return h(
    "div",
    { class: "fw-rollout", "data-testid": "rollout", "data-number": r.number, "data-state": state, "data-targets": r.targets, "data-updated": r.counts.updated, "data-failed": r.counts.failed },
    h(
      "div",
      { class: "fw-rollout-head" },
      h("strong", {}, `#${r.number}`),
      h("span", {}, `v${r.version}`),
      hash(r.imageId, { n: 0 }),
      h("span", { class: "muted" }, "to ", selectorText(r.selector), " · started at block ", h("a", { href: `#/blocks/${r.height}` }, fmtInt(r.height)), r.stoppedHeight ? [" · stopped at block ", h("a", { href: `#/blocks/${r.stoppedHeight}` }, fmtInt(r.stoppedHeight))] : null),
      pill(...statePills[state]),
    ),
    progressBar(r),
    rolloutCounts(r),
    failed.length
      ? h(
          "div",
          { class: "fw-failed" },
          failed.map((t) => h("div", { "data-testid": "rollout-failure", "data-device": t.deviceId }, h("span", { class: "cross" }, "✗ "), h("a", { class: "mono", href: `#/devices/${t.deviceId}`, title: t.deviceId }, short(t.deviceId, 8)), " ", h("span", { class: "pill bad" }, t.reason ?? "failed"), h("span", { class: "muted" }, ` runs v${t.version}`))),
        )
      : null,
  );
}

/** Every failed attempt the chain holds, newest first (devices report them in their signed readings). */
function failureRows(fleet) {
  const rows = fleet.devices.flatMap((d) => d.failures.map((f) => ({ deviceId: d.deviceId, running: d.version, ...f })));
  rows.sort((a, b) => b.height - a.height);
  return rows.slice(0, failuresShownMax).map((f) =>
    h(
      "tr",
      { "data-testid": "failure", "data-device": f.deviceId, "data-reason": f.reason },
      h("td", {}, h("a", { class: "mono", href: `#/devices/${f.deviceId}`, title: f.deviceId }, short(f.deviceId, 8))),
      h("td", {}, `v${f.version}`),
      h("td", {}, h("span", { class: "pill bad" }, f.reason)),
      h("td", {}, f.running ? `v${f.running}` : "—"),
      h("td", { class: "num" }, fmtInt(f.sequence)),
      h("td", {}, h("a", { href: `#/blocks/${f.height}` }, fmtInt(f.height))),
    ),
  );
}

async function load() {
  const [releases, rollouts, fleet] = await Promise.all([get("/v1/firmware/releases"), get("/v1/firmware/rollouts"), get("/v1/firmware/fleet")]);
  const shown = rollouts.items.slice(0, rolloutsShownMax);
  const details = await Promise.all(shown.slice(0, rolloutsDetailedMax).map((r) => get(`/v1/firmware/rollouts/${r.number}`).catch(() => null)));
  return { releases: releases.items, rollouts: shown, rolloutsTotal: rollouts.items.length, details, fleet };
}

export async function renderFirmware(view, _params, ctx) {
  let state = await load();
  const statsEl = h("div", { class: "stats" });
  const fleetBody = h("div", { class: "card-body" });
  const rolloutsBody = h("div");
  const releasesBody = h("div");
  const failuresBody = h("div");
  const atHeight = h("span", { "data-testid": "fw-height" });

  const render = () => {
    const { releases, rollouts, details, fleet } = state;
    const reported = fleet.devices.filter((d) => d.version > 0).length;
    const newest = releases.reduce((m, r) => Math.max(m, r.version), 0);
    const onNewest = fleet.devices.filter((d) => newest > 0 && d.version >= newest).length;
    const running = rollouts.filter((r) => rolloutState(r) === "running").length;
    const failures = fleet.devices.reduce((n, d) => n + d.failures.length, 0);
    mount(
      statsEl,
      stat("Newest release", newest ? `v${newest}` : "—", `${fmtInt(releases.length)} release${releases.length === 1 ? "" : "s"} on chain`, "fw-newest"),
      stat("On the newest", `${fmtInt(onNewest)} / ${fmtInt(fleet.devices.length)}`, "devices on it / enrolled", "fw-on-newest"),
      stat("Reporting a version", `${fmtInt(reported)} / ${fmtInt(fleet.devices.length)}`, "from their signed readings", "fw-reported"),
      stat("Rollouts in progress", fmtInt(running), `${fmtInt(state.rolloutsTotal)} in all`, "fw-running"),
      stat("Failed attempts", fmtInt(failures), "rolled back by the boot loader", "fw-failures"),
    );
    atHeight.textContent = `at block ${fmtInt(fleet.atHeight)}`;
    mount(fleetBody, fleetBars(fleet, releases), fleet.truncated ? h("p", { class: "note" }, "The first devices only (the API caps the fleet view).") : null);
    mount(rolloutsBody, rollouts.length ? rollouts.map((r, i) => rolloutBlock(r, details[i])) : h("div", { class: "empty" }, "No rollouts yet: mote firmware rollout <image id> --owner <you> --key <key file>"));
    mount(releasesBody, table(["Version", "Image id", "Publisher kid", { label: "Size", num: true }, { label: "ABI", num: true }, "Block"], releaseRows(releases), "No releases yet: mote firmware sign, then mote firmware release"));
    mount(failuresBody, table(["Device", "Tried", "Reason", "Runs", { label: "Reported in seq", num: true }, "Block"], failureRows(fleet), "No failed attempts"));
  };
  render();

  mount(
    view,
    h("div", { class: "page-title" }, h("h1", {}, "Firmware"), h("span", { class: "sub" }, "signed releases, rollouts and the fleet by version, from chain state (devices report their version in their own signed readings)")),
    statsEl,
    h("div", { class: "grid two" }, card("Fleet by version", atHeight, fleetBody), card("Releases", "manifests signed by a publisher key of the chain", releasesBody)),
    h("div", { class: "grid" }, card("Rollouts", "newest first · a target is updated once it reports the release's version", rolloutsBody), card("Failed attempts", "the boot loader went back to the previous image", failuresBody)),
  );
  // Live: refresh on finalized blocks, at most once a second (the network view's pattern), and once
  // more after a skipped block so the page never stays behind the last one.
  let refreshing = false;
  let lastRefreshMs = Date.now();
  let closed = false;
  let trailing = null;
  const refresh = async () => {
    if (refreshing || Date.now() - lastRefreshMs < refreshIntervalMsMin) {
      trailing ??= setTimeout(() => ((trailing = null), void refresh()), refreshIntervalMsMin);
      return;
    }
    refreshing = true;
    lastRefreshMs = Date.now();
    try {
      const next = await load();
      if (closed) return;
      state = next;
      render();
    } catch {
      /* the live indicator shows connectivity; keep the last good data */
    } finally {
      refreshing = false;
    }
  };
  const off = ctx.onBlock(() => void refresh());
  return () => {
    closed = true;
    clearTimeout(trailing);
    off();
  };
}
