// One seeded schedule, start to verdict. The seed decides everything: which nodes are Byzantine and
// how, which honest nodes crash (some between persisting a vote and sending it) and when they
// restart, partitions and heals, loss, duplication, delay and reordering, clock skew. The schedule
// runs a fault phase, then heals the network and restarts every crashed node, and checks that
// finality resumes within `livenessBoundMs`. Every verdict carries the seed that reproduces it:
//
//   npx tsx test/consensus/sim/cli.ts --n 4 --seed 1234
import { faultsTolerated } from "../../../shared/consensus-certificate.ts";
import { consensusDefaults, roundTimeoutMs } from "../../../gateway/consensus/options.ts";
import { byzantineKinds, makeBehaviour, SplitBrain, type ByzantineKind, type World } from "./byzantine.ts";
import { SafetyChecker } from "./checker.ts";
import { EventQueue } from "./events.ts";
import { MemoCheck, simIdentity } from "./keys.ts";
import { goodLinks, SimNetwork, type LinkFaults } from "./network.ts";
import { SimNode, type AppHandle } from "./node.ts";
import { simAppHandle } from "./app.ts";
import type { SimIdentity } from "./keys.ts";
import { Prng } from "./prng.ts";

export interface ScheduleOptions {
  seed: number;
  /** Validators per epoch; one spare node follows and may be elected. */
  n: number;
  /** Byzantine nodes; default: 0 to f at random. */
  byzantine?: number;
  /** Allowed Byzantine kinds; "splitBrain" makes all Byzantine nodes collude. */
  kinds?: readonly ByzantineKind[];
  /** Crash faults on honest nodes; default: 0 to f at random. */
  crashes?: number;
  network?: boolean;
  /** Runs node i on another app (the real chain: chain-app.ts); default: the in-memory SimApp. */
  makeApp?: (i: number, identities: SimIdentity[], onCommit: (height: number, hash: Uint8Array, root: Uint8Array) => void) => AppHandle;
  /** Adds its own events before the nodes start (e.g. transactions for the real chain). */
  drive?: (ctx: { queue: EventQueue; prng: Prng; nodes: SimNode[]; faultPhaseMs: number }) => void;
  /** Called once the schedule is over (closes databases). */
  cleanup?: () => void;
}

export interface ScheduleResult {
  seed: number;
  n: number;
  faults: string;
  violation?: string;
  /** Finality resumed at every honest node within the bound after the heal. */
  live: boolean;
  recoveryMs: number;
  heightAtHeal: number;
  heightFinal: number;
  evidence: number;
  events: number;
  verifications: number;
}

/** Simulation timings (virtual ms): short, so a schedule covers many heights and rounds. */
export const simTimings = {
  blockIntervalMs: 50,
  consensus: { roundTimeoutBaseMs: 200, roundTimeoutMaxMs: 1600, roundTimeoutStepMs: 400, resendIntervalMs: 250 },
  sync: { requestTimeoutMs: 500, peerBackoffMs: 500, peerBackoffMaxMs: 4000 },
  statusIntervalMs: 250,
};

/** The fault phase lasts at most this long. */
export const faultPhaseMaxMs = 4000;

const options = { ...consensusDefaults, ...simTimings.consensus };

/** Rounds one height can go through in `ms` (each round lasts at least its timeout). */
function roundsWithin(ms: number): number {
  let r = 0;
  for (let spent = 0; spent <= ms; r++) spent += roundTimeoutMs(options, r, simTimings.blockIntervalMs);
  return r;
}

/**
 * The liveness bound after the heal. Nodes left the fault phase in rounds up to R (the rounds one
 * height can pass in the phase); within a status interval and a sync request every node is at the
 * finalized tip; rounds then resynchronise (resends, the f+1 rule, the quorum-restarted timer,
 * linear growth past the cap) and at worst f faulty proposers in a row cost a round each, twice
 * (two new heights). Bound: 2·status + 2·sync timeout + every round timeout from 0 to R + 2(f+2).
 */
export function livenessBoundMs(n: number): number {
  const t = simTimings;
  const f = faultsTolerated(n);
  let rounds = 0;
  for (let r = 0; r <= roundsWithin(faultPhaseMaxMs) + 2 * (f + 2); r++) rounds += roundTimeoutMs(options, r, t.blockIntervalMs);
  return 2 * t.statusIntervalMs + 2 * t.sync.requestTimeoutMs + rounds;
}

const linkProfiles: LinkFaults[] = [
  goodLinks,
  { lossProbability: 0.05, duplicateProbability: 0.05, delayMinMs: 1, delayMaxMs: 40 },
  { lossProbability: 0.15, duplicateProbability: 0, delayMinMs: 1, delayMaxMs: 20 },
  { lossProbability: 0.01, duplicateProbability: 0.1, delayMinMs: 1, delayMaxMs: 150 }, // heavy reordering
  { lossProbability: 0.02, duplicateProbability: 0.02, delayMinMs: 50, delayMaxMs: 400 }, // slow links
];

export function runSchedule(o: ScheduleOptions): ScheduleResult {
  const prng = new Prng(o.seed);
  const f = faultsTolerated(o.n);
  const count = o.n + 1;
  const queue = new EventQueue();
  const memo = new MemoCheck();
  const identities = Array.from({ length: count }, (_, i) => simIdentity(i));
  const genesis = { chainId: `sim-${o.seed}`, candidates: identities.map((x) => ({ id: x.id, publicKey: x.publicKey })), setSize: o.n, epochBlocks: prng.int(3, 8), blockIntervalMs: simTimings.blockIntervalMs };
  const nodes: SimNode[] = [];
  const byId = new Map<string, SimNode>();
  const network = new SimNetwork(queue, prng.fork(), (from, to, bytes) => byId.get(to)?.receive(from, bytes));
  const outbox = {
    broadcast: (from: SimNode, bytes: Uint8Array) => nodes.forEach((n) => n !== from && network.send(from.id, n.id, bytes)),
    send: (from: SimNode, to: string, bytes: Uint8Array) => network.send(from.id, to, bytes),
  };
  const order = prng.shuffle(identities.map((_, i) => i));
  const byzantine = order.slice(0, o.byzantine ?? prng.int(0, f));
  const honest = new Set(order.slice(byzantine.length).map((i) => toId(identities[i].id)));
  const checker = new SafetyChecker(honest);
  let evidence = 0;
  const observer = { decided: (n: SimNode, h: number, hash: Uint8Array, root: Uint8Array) => checker.decided(n.id, h, hash, root), evidence: () => void evidence++ };
  for (let i = 0; i < count; i++) {
    const txSeed = prng.next();
    const skew = prng.int(-200, 200);
    const makeApp = o.makeApp ? (onCommit: Parameters<typeof simAppHandle>[3]) => o.makeApp!(i, identities, onCommit) : (onCommit: Parameters<typeof simAppHandle>[3]) => simAppHandle(genesis, txSeed, skew, onCommit);
    const node = new SimNode({ index: i, identity: identities[i], makeApp, queue, outbox, observer, check: memo.check, consensus: simTimings.consensus, sync: simTimings.sync, statusIntervalMs: simTimings.statusIntervalMs });
    nodes.push(node);
    byId.set(node.id, node);
  }
  const world: World = { ids: nodes.map((n) => n.id), prng: prng.fork(), send: (from, to, bytes) => network.send(from.id, to, bytes), nowMs: () => queue.nowMs };
  const faults: string[] = [];
  assignByzantine(o, prng, nodes, byzantine, honest, world, faults);

  const faultPhaseMs = prng.int(1500, faultPhaseMaxMs);
  const honestNodes = nodes.filter((n) => honest.has(n.id));
  scheduleCrashes(prng, queue, honestNodes, o.crashes ?? prng.int(0, f), faultPhaseMs, faults);
  if (o.network !== false) scheduleNetworkFaults(prng, queue, network, nodes, faultPhaseMs, faults);

  o.drive?.({ queue, prng: prng.fork(), nodes, faultPhaseMs });
  for (const n of nodes) queue.at(prng.int(0, 50), () => n.start());
  const eventsMax = 3_000_000;
  queue.run(faultPhaseMs, () => checker.violation !== undefined, eventsMax);
  // Heal: good links, no partition, every crashed node back.
  network.faults = goodLinks;
  network.heal();
  for (const n of nodes) {
    n.crashAfterPersist = false;
    n.start();
  }
  const heightAtHeal = checker.maxHeight();
  const target = heightAtHeal + 2;
  const healMs = queue.nowMs;
  const bound = livenessBoundMs(o.n);
  queue.run(healMs + bound, () => checker.violation !== undefined || checker.allReached(honest, target), eventsMax);
  const live = checker.allReached(honest, target);
  o.cleanup?.();
  return {
    seed: o.seed,
    n: o.n,
    faults: faults.join(", ") || "none",
    violation: checker.violation,
    live,
    recoveryMs: queue.nowMs - healMs,
    heightAtHeal,
    heightFinal: checker.maxHeight(),
    evidence,
    events: queue.processed,
    verifications: memo.verifications,
  };
}

function toId(id: Uint8Array): string {
  return Buffer.from(id).toString("hex");
}

function assignByzantine(o: ScheduleOptions, prng: Prng, nodes: SimNode[], byzantine: number[], honest: Set<string>, world: World, faults: string[]): void {
  const kinds = o.kinds ?? byzantineKinds;
  const colluding = kinds.includes("splitBrain") && (kinds.length === 1 || prng.chance(1 / kinds.length));
  if (colluding && byzantine.length > 0) {
    const colluders = byzantine.map((i) => nodes[i]);
    // Group A plus the colluders is just a quorum; group B is every other honest node.
    const others = prng.shuffle(nodes.filter((n) => honest.has(n.id)).map((n) => n.id));
    const sizeA = Math.max(1, Math.floor((2 * o.n) / 3) + 1 - colluders.length);
    const plan = new SplitBrain(colluders, others.slice(0, sizeA), others.slice(sizeA), world);
    for (const c of colluders) c.behaviour = plan.behaviour();
    faults.push(`splitBrain×${colluders.length}`);
    return;
  }
  const single = kinds.filter((k): k is Exclude<ByzantineKind, "splitBrain"> => k !== "splitBrain");
  for (const i of byzantine) {
    const kind = prng.pick(single);
    nodes[i].behaviour = makeBehaviour(kind, world);
    faults.push(`${kind}@${i}`);
  }
}

function scheduleCrashes(prng: Prng, queue: EventQueue, honest: SimNode[], crashes: number, phaseMs: number, faults: string[]): void {
  for (const node of prng.shuffle([...honest]).slice(0, crashes)) {
    const at = prng.int(100, phaseMs - 100);
    const torn = prng.chance(0.5);
    const restartAt = prng.chance(0.6) ? at + prng.int(50, 1500) : Infinity;
    faults.push(`crash@${node.cfg.index}:${at}${torn ? "(torn)" : ""}${restartAt < phaseMs ? `→${restartAt}` : ""}`);
    queue.at(at, () => (torn ? (node.crashAfterPersist = true) : node.crash()));
    if (restartAt < phaseMs) queue.at(restartAt, () => node.start());
  }
}

function scheduleNetworkFaults(prng: Prng, queue: EventQueue, network: SimNetwork, nodes: SimNode[], phaseMs: number, faults: string[]): void {
  const profile = prng.int(0, linkProfiles.length - 1);
  network.faults = linkProfiles[profile];
  if (profile > 0) faults.push(`links${profile}`);
  const partitions = prng.int(0, 2);
  for (let i = 0; i < partitions; i++) {
    const at = prng.int(0, phaseMs - 200);
    const until = Math.min(phaseMs, at + prng.int(200, 1500));
    const ids = prng.shuffle(nodes.map((n) => n.id));
    const cut = prng.int(1, ids.length - 1);
    faults.push(`partition${cut}|${ids.length - cut}@${at}-${until}`);
    queue.at(at, () => network.partition([ids.slice(0, cut), ids.slice(cut)]));
    queue.at(until, () => network.heal());
  }
}
