// The gateway's counters as one flat snapshot (logged periodically, served by GET /h) and as a
// prom-client registry for an HTTP /metrics endpoint. Counting stays plain integer increments on
// the hot path; prom-client reads the snapshot only when scraped.
import { Gauge, Registry } from "prom-client";

export type Snapshot = Record<string, number>;

export function metricsRegistry(snapshot: () => Snapshot): Registry {
  const registry = new Registry();
  const gauge = new Gauge({
    name: "moteledger_ingest",
    help: "Gateway ingest counters (readings accepted, refused by code, commits, transport frames)",
    labelNames: ["counter"],
    registers: [registry],
    collect() {
      for (const [counter, value] of Object.entries(snapshot())) this.set({ counter }, value);
    },
  });
  void gauge;
  return registry;
}
