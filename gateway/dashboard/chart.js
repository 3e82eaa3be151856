// A live time-series chart of one sensor with uPlot (global `uPlot`, loaded by index.html).
// Points are kept sorted by time and bounded, so a long-open page does not grow without limit.
//
// Axes are sized to their labels: the y axis measures the labels it is about to draw (101,560 Pa
// is wider than 21.4 Cel), and x ticks are spaced by the width of the widest time label, in whole
// seconds at least, formatted by the tick step (seconds, minutes, days), so labels never overlap
// or repeat on short spans. The legend shows the hovered point, or the latest one.

const pointsMax = 5000;
const axisFont = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const tickPx = 10;
const axisGapPx = 5;
/** Room between two x labels, in CSS px. */
const labelGapPx = 16;
const minute = 60;
const hour = 3600;
const day = 86_400;
/** x tick steps in seconds (the scale is Unix seconds): never finer than a second. */
const timeIncrs = [1, 2, 5, 10, 15, 30, minute, 2 * minute, 5 * minute, 10 * minute, 15 * minute, 30 * minute, hour, 2 * hour, 3 * hour, 6 * hour, 12 * hour, day, 2 * day, 7 * day, 14 * day, 30 * day];

let measureCtx;
/** Width in CSS px of `text` in the axis font. */
export function textWidth(text) {
  measureCtx ??= document.createElement("canvas").getContext("2d");
  measureCtx.font = axisFont;
  return measureCtx.measureText(text).width;
}

const pad2 = (n) => String(n).padStart(2, "0");
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A time label for tick step `incrS`: 14:03:25 below a minute, 14:03 below a day, 3 Mar above. */
export function timeLabel(tS, incrS) {
  const d = new Date(tS * 1000);
  if (incrS < minute) return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  if (incrS < day) return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return `${d.getDate()} ${months[d.getMonth()]}`;
}

/** "101,560 Pa", "21.4 Cel": digits grouped, as many decimals as the tick step needs. */
export function valueLabel(v, incr, unit) {
  const decimals = incr > 0 ? Math.min(4, Math.max(0, -Math.floor(Math.log10(incr) + 1e-9))) : 2;
  return `${v.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}${unit ? " " + unit : ""}`;
}

const valueText = (v, unit) => `${v.toLocaleString("en-US", { maximumFractionDigits: 6 })}${unit ? " " + unit : ""}`;

export class ReadingChart {
  constructor(container, { unit = "", label = "value" } = {}) {
    this.container = container;
    this.xs = [];
    this.ys = [];
    this.unit = unit;
    const width = Math.max(320, container.clientWidth - 16);
    // The widest label an x tick can carry (a digit-width string), plus room between labels.
    const xSpacePx = Math.ceil(textWidth("00:00:00") + labelGapPx);
    this.plot = new uPlot(
      {
        width,
        height: 280,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        legend: { show: true },
        axes: [
          {
            font: axisFont,
            stroke: "#64748b",
            grid: { stroke: "#eef2f6" },
            ticks: { stroke: "#e2e8f0", size: tickPx },
            incrs: timeIncrs,
            space: xSpacePx,
            values: (_u, splits, _axis, _space, incr) => splits.map((v) => timeLabel(v, incr)),
          },
          {
            font: axisFont,
            stroke: "#64748b",
            grid: { stroke: "#eef2f6" },
            ticks: { stroke: "#e2e8f0", size: tickPx },
            gap: axisGapPx,
            values: (_u, splits, _axis, _space, incr) => splits.map((v) => valueLabel(v, incr, unit)),
            // The labels about to be drawn decide the width: nothing is cut off on the left.
            size: (_u, values) => Math.ceil(tickPx + axisGapPx + Math.max(24, ...(values ?? []).map(textWidth)) + 2),
          },
        ],
        series: [
          { label: "time", value: (_u, v) => this.legendTime(v) },
          { label, stroke: "#0f766e", width: 2, fill: "rgba(15,118,110,0.08)", points: { size: 5, stroke: "#0f766e", fill: "#fff" }, value: (_u, v) => this.legendValue(v) },
        ],
      },
      [[], []],
      container,
    );
    // Read by tests and by devtools: the uPlot instance behind this chart.
    container.uplot = this.plot;
    this.resize = new ResizeObserver(() => this.plot.setSize({ width: Math.max(320, container.clientWidth - 16), height: 280 }));
    this.resize.observe(container);
    this.sync();
  }

  /** Not hovering (v is null): the latest point, so the legend is never a row of dashes. */
  legendTime(v) {
    const t = v ?? this.xs[this.xs.length - 1];
    return t == null ? "—" : new Date(t * 1000).toLocaleTimeString("en-GB", { hour12: false });
  }

  legendValue(v) {
    const y = v ?? this.ys[this.ys.length - 1];
    return y == null ? "—" : valueText(y, this.unit);
  }

  /** Replaces all points: `points` is [{ timeMs, value }]. */
  set(points) {
    const sorted = [...points].sort((a, b) => a.timeMs - b.timeMs).slice(-pointsMax);
    this.xs = sorted.map((p) => p.timeMs / 1000);
    this.ys = sorted.map((p) => p.value);
    this.sync();
  }

  add(timeMs, value) {
    const x = timeMs / 1000;
    let i = this.xs.length;
    while (i > 0 && this.xs[i - 1] > x) i--;
    this.xs.splice(i, 0, x);
    this.ys.splice(i, 0, value);
    if (this.xs.length > pointsMax) {
      this.xs.shift();
      this.ys.shift();
    }
    this.sync();
  }

  get size() {
    return this.xs.length;
  }

  sync() {
    this.plot.setData([this.xs, this.ys]);
    // The legend shows the latest point until the cursor picks another.
    this.plot.setLegend();
    // Read by tests and by assistive tooling: how many points the chart holds.
    this.container.dataset.points = String(this.xs.length);
  }

  destroy() {
    this.resize.disconnect();
    this.plot.destroy();
  }
}
