// The ingest gateway assembled from its parts: device registry, pending store, group commit,
// pipeline, and a CoAP endpoint on UDP and every configured serial port. `mote gateway start`,
// the tests and the benchmark all start it through here.
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { CborValue } from "../../shared/cbor.ts";
import { fromHex, PublicKeyCache, toHex } from "../../shared/ed25519.ts";
import { readingBytesMax } from "../../shared/reading.ts";
import { enrollmentBytesMax } from "../../shared/enrollment.ts";
import { CoapEndpoint } from "../coap/endpoint.ts";
import { createRequestHandler, type FirmwareResources } from "../coap/resources.ts";
import { SerialSocket } from "../coap/serial-socket.ts";
import type { GatewayConfig } from "../config.ts";
import { EnrollmentService } from "../devices/enrollment.ts";
import type { DeviceRegistry } from "../devices/registry.ts";
import { SqliteDeviceRegistry } from "../devices/sqlite-registry.ts";
import { Backlog, backlogReasons, type BacklogStatus, type ChainProgress } from "./backlog.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { loadOrCreateIdentity, type GatewayIdentity } from "./gateway-identity.ts";
import { GroupCommit } from "./group-commit.ts";
import { WorkerCommitWriter, type CommitWriter } from "./commit-writer.ts";
import { metricsRegistry, type Snapshot } from "./metrics.ts";
import { MisbehaviourCounters } from "./misbehaviour.ts";
import { PendingStore } from "./pending-store.ts";
import { IngestPipeline } from "./pipeline.ts";

export class IngestGateway {
  private readonly startedMs = Date.now();
  private statsTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  udpAddress: AddressInfo | undefined;
  readonly serialSockets: SerialSocket[] = [];

  private constructor(
    readonly config: GatewayConfig,
    readonly log: Logger,
    readonly identity: GatewayIdentity,
    readonly registry: DeviceRegistry,
    readonly store: PendingStore,
    readonly commits: GroupCommit,
    private readonly writer: CommitWriter,
    readonly pipeline: IngestPipeline,
    readonly enrollment: EnrollmentService,
    readonly endpoint: CoapEndpoint,
    readonly backlog: Backlog,
    private readonly unlock: () => void,
  ) {}

  /**
   * Starts listening. A chain-running gateway passes its validator identity (so its co-signatures
   * name the account that submits the batches) and the chain's device registry; a stand-alone
   * gateway keeps its own key file and SQLite registry in the data directory.
   */
  static async start(config: GatewayConfig, log: Logger, parts: { identity?: GatewayIdentity; registry?: DeviceRegistry; firmware?: FirmwareResources; blockIntervalMs?: () => number } = {}): Promise<IngestGateway> {
    const unlock = lockDataDir(config.dataDir);
    const identity = parts.identity ?? loadOrCreateIdentity(config.dataDir);
    const registry = parts.registry ?? SqliteDeviceRegistry.open(config.dataDir);
    const store = PendingStore.open(config.dataDir);
    const keys = new PublicKeyCache();
    const misbehaviour = new MisbehaviourCounters();
    // The main thread's store connection only reads (replay checks); the worker writes.
    const writer = await WorkerCommitWriter.start(config.dataDir);
    const commits = new GroupCommit(writer, identity, misbehaviour, config.ingest, log);
    // With the chain's pace the backlog also sheds what would wait too long for it (backlog.ts).
    const backlog = new Backlog(store, config.ingest, Date.now, parts.blockIntervalMs);
    const pipeline = new IngestPipeline({ registry, store, commits, misbehaviour, keys, options: config.ingest, log, backlog });
    const enrollment = new EnrollmentService(registry, { trustedOwners: config.enrollment.trustedOwners.map(fromHex), open: config.enrollment.open }, keys);
    let gw: IngestGateway | undefined;
    const handler = createRequestHandler({ pipeline, enrollment, log, health: () => gw!.health(), firmware: parts.firmware });
    const endpoint = new CoapEndpoint(
      handler,
      { limits: { payloadBytesMax: Math.max(readingBytesMax, enrollmentBytesMax) }, piggybackReplyMs: config.coap.piggybackReplyMs, udpReceiveBufferBytes: config.coap.udpReceiveBufferBytes },
      log,
    );
    gw = new IngestGateway(config, log, identity, registry, store, commits, writer, pipeline, enrollment, endpoint, backlog, unlock);
    try {
      await gw.listen();
    } catch (e) {
      await gw.close();
      throw e;
    }
    if (config.enrollment.open) log.warn({ code: "OPEN_ENROLLMENT" }, "open enrollment: any owner-signed device is accepted; do not run this in production");
    log.info({ gatewayId: toHex(identity.gatewayId), udp: gw.udpAddress, serial: config.serial.map((s) => s.path), dataDir: config.dataDir }, "gateway listening");
    if (config.statsIntervalMs > 0) {
      gw.statsTimer = setInterval(() => log.info({ counters: gw!.snapshot() }, "counters"), config.statsIntervalMs);
      gw.statsTimer.unref();
    }
    return gw;
  }

  private async listen(): Promise<void> {
    const { udp, serial, coap } = this.config;
    if (udp) this.udpAddress = await this.endpoint.listenUdp(udp.host, udp.port);
    for (const s of serial) {
      const socket = await SerialSocket.open(
        { path: s.path, baudRate: s.baudRate, frameBytesMax: coap.serialFrameBytesMax, writeQueueBytesMax: coap.serialWriteQueueBytesMax, reopenDelayMsMax: 30_000 },
        this.log,
      );
      this.serialSockets.push(socket);
      this.endpoint.listenSerial(socket);
    }
  }

  /** Every counter, flat: logged periodically, served by GET /h, scraped by prom-client. */
  snapshot(): Snapshot {
    const p = this.pipeline.counters;
    const out: Snapshot = {
      readingsAccepted: p.accepted,
      readingsDuplicate: p.duplicates,
      commits: this.commits.stats.commits,
      commitFailures: this.commits.stats.commitFailures,
      largestBatch: this.commits.stats.largestBatch,
      commitQueue: this.commits.queued,
      readingsPending: this.backlog.pending(),
      coapPassed: this.endpoint.stats.passed,
      coapAnsweredByAdmission: this.endpoint.stats.answeredHere,
      coapDropped: this.endpoint.stats.dropped,
    };
    for (const [code, n] of Object.entries(p.rejected)) out[`rejected${code}`] = n!;
    this.serialSockets.forEach((s, i) => {
      for (const [k, v] of Object.entries(s.stats)) out[`serial${i}${k[0].toUpperCase()}${k.slice(1)}`] = v;
    });
    return out;
  }

  /** Acknowledged readings waiting for the chain: count, limit, age of the oldest. */
  backlogStatus(): BacklogStatus {
    return this.backlog.status();
  }

  /** Why readings are not getting to the chain ("CODE: explanation"); `chain` adds the stall rule. */
  healthReasons(chain?: ChainProgress): string[] {
    return backlogReasons(this.backlog.status(), this.config.ingest, chain);
  }

  /** GET /h: "degraded" with reasons when the backlog is full or old (an ingest-only gateway has no chain to judge). */
  health(): Map<string, CborValue> {
    const b = this.backlog.status();
    const reasons = backlogReasons(b, this.config.ingest);
    return new Map<string, CborValue>([
      ["status", reasons.length ? "degraded" : "ok"],
      ["reasons", reasons],
      ["gatewayId", this.identity.gatewayId],
      ["uptimeS", Math.floor((Date.now() - this.startedMs) / 1000)],
      ["accepted", this.pipeline.counters.accepted],
      ["pending", b.pending],
      ["backlogLimit", b.limit],
      ["oldestPendingAgeMs", b.oldestPendingAgeMs],
    ]);
  }

  metrics() {
    return metricsRegistry(() => ({ ...this.snapshot(), oldestPendingAgeMs: this.backlog.status().oldestPendingAgeMs ?? 0 }));
  }

  /** Stops intake, commits and answers what is in flight, then closes the stores. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.statsTimer) clearInterval(this.statsTimer);
      await this.commits.close();
      await this.writer.close();
      // Let the answers to the last commit go out before the sockets close.
      await new Promise((r) => setImmediate(r));
      await this.endpoint.close();
      await Promise.all(this.serialSockets.map((s) => s.close()));
      const counters = this.snapshot(); // while the store is open: it counts the backlog
      this.store.close();
      this.registry.close();
      this.unlock();
      this.log.info({ counters }, "gateway stopped");
    })();
    return this.closing;
  }
}
