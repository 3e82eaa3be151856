// A live time-series chart of one sensor with uPlot (global `uPlot`, loaded by index.html).
// Points are kept sorted by time and bounded, so a long-open page does not grow without limit.

const pointsMax = 5000;

export class ReadingChart {
  constructor(container, { unit = "", label = "value" } = {}) {
    this.container = container;
    this.xs = [];
    this.ys = [];
    this.unit = unit;
    const width = Math.max(320, container.clientWidth - 16);
    this.plot = new uPlot(
      {
        width,
        height: 280,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        legend: { show: true },
        axes: [
          { stroke: "#64748b", grid: { stroke: "#eef2f6" }, ticks: { stroke: "#e2e8f0" }, values: (_u, vals) => vals.map((v) => new Date(v * 1000).toLocaleTimeString("en-GB", { hour12: false })) },
          { stroke: "#64748b", grid: { stroke: "#eef2f6" }, ticks: { stroke: "#e2e8f0" }, size: 56, values: (_u, vals) => vals.map((v) => `${+v.toFixed(2)}${unit ? " " + unit : ""}`) },
        ],
        series: [
          { label: "time", value: (_u, v) => (v == null ? "—" : new Date(v * 1000).toLocaleTimeString("en-GB", { hour12: false })) },
          { label, stroke: "#0f766e", width: 2, fill: "rgba(15,118,110,0.08)", points: { size: 5, stroke: "#0f766e", fill: "#fff" }, value: (_u, v) => (v == null ? "—" : `${v}${unit ? " " + unit : ""}`) },
        ],
      },
      [[], []],
      container,
    );
    this.resize = new ResizeObserver(() => this.plot.setSize({ width: Math.max(320, container.clientWidth - 16), height: 280 }));
    this.resize.observe(container);
    this.sync();
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
    // Read by tests and by assistive tooling: how many points the chart holds.
    this.container.dataset.points = String(this.xs.length);
  }

  destroy() {
    this.resize.disconnect();
    this.plot.destroy();
  }
}
