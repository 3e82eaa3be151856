// Every port a test binds on purpose, in one table. Vitest runs two test files at once (and a second
// checkout's suite may run beside this one), so test files that need known ports before their
// processes start draw them from ranges that no other file's range or fixed block overlaps: a
// file's base moves with its worker's pid inside its own range only. Before this table,
// processes-churn's range (27,400 + pid % 500 × 10) covered the devnets' fixed p2p and API ports,
// and quarantine-net failed about one run in twenty with "EADDRINUSE 127.0.0.1:28081".
// test/support/ports.test.ts checks that nothing here overlaps and that all of it stays below
// Linux's ephemeral range (32,768), where the kernel picks ports for outgoing sockets.

/** Devnets started on fixed ports (`npm start` style): each kind uses base…base+7. */
export const fixedDevnetPorts = {
  firmwareRollout: { udp: 12_700, p2p: 13_400, api: 14_080 },
  start: { udp: 15_700, p2p: 17_400, api: 18_080 },
  quarantineNet: { udp: 25_700, p2p: 27_400, api: 28_080 },
  compactNet: { udp: 25_760, p2p: 27_460, api: 28_140 },
  startSignals: { udp: 25_820, p2p: 27_520, api: 28_200 },
} as const;

/** Per-file ranges: `slots` blocks of `width` ports from `from`, one chosen by the worker's pid. */
export const pidPortRanges = {
  expiryNet: { from: 2_000, width: 8, slots: 400 },
  processesJoin: { from: 5_400, width: 10, slots: 480 },
  processesDeterminism: { from: 10_200, width: 10, slots: 250 },
  joinNet: { from: 14_100, width: 4, slots: 400 },
  p2pSealed: { from: 18_100, width: 12, slots: 500 },
  payloadNet: { from: 28_300, width: 8, slots: 200 },
  processesChurn: { from: 29_900, width: 10, slots: 280 },
} as const;

/** This process's block in a file's range: its first port (the file uses up to `width` from it). */
export function portBase(name: keyof typeof pidPortRanges): number {
  const r = pidPortRanges[name];
  return r.from + (process.pid % r.slots) * r.width;
}
