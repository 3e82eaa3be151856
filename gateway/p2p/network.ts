// The gateway's TCP mesh: listens for peers, dials the addresses it is given, keeps one
// authenticated connection per peer id, and redials lost ones with exponential backoff and jitter.
// Callers see peers by id (hex of SHA-256(publicKey)[0..16], the chain's validator id) and frames
// as bytes; what frames mean is the replica's business (gateway/consensus/replica.ts).
//
// Two gateways that dial each other at once end up with two connections; both sides keep the one
// dialled by the lower id, so they agree without talking about it.
import { createServer, connect, type Server, type Socket, type AddressInfo } from "node:net";
import type { Logger } from "pino";
import { linkIntegrityCodes, P2pError } from "./errors.ts";
import { p2pDefaults, type P2pOptions } from "./options.ts";
import { PeerConnection, type LocalIdentity } from "./peer.ts";
import { deviceIdFromPublicKey, toHex } from "../../shared/ed25519.ts";

export interface PeerAddress {
  host: string;
  port: number;
}

export interface NetworkEvents {
  peerUp(id: string): void;
  peerDown(id: string): void;
  frame(id: string, bytes: Uint8Array): void;
}

interface DialTarget {
  address: PeerAddress;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  connection: PeerConnection | undefined;
  /** Who answered at this address last time. */
  peerId: string | undefined;
  /** Not dialling: we are connected to this peer through its own dial. */
  idle: boolean;
}

export class P2pNetwork {
  readonly options: P2pOptions;
  readonly selfId: string;
  private server: Server | undefined;
  private readonly peers = new Map<string, PeerConnection>();
  private readonly pending = new Set<PeerConnection>();
  private readonly targets = new Map<string, DialTarget>();
  private stopped = false;

  constructor(
    private readonly me: LocalIdentity,
    private readonly events: NetworkEvents,
    private readonly log: Logger,
    options: Partial<P2pOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...p2pDefaults, ...options };
    this.selfId = toHex(deviceIdFromPublicKey(me.publicKey));
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.peersMax;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    server.on("error", (e) => this.log.error({ err: e.message }, "p2p listener failed"));
    this.server = server;
    return server.address() as AddressInfo;
  }

  /** Keeps a connection to `address` open from now on (redialled with backoff when lost). */
  dial(address: PeerAddress): void {
    const key = `${address.host}:${address.port}`;
    if (this.targets.has(key) || this.stopped) return;
    const target: DialTarget = { address, failures: 0, timer: undefined, connection: undefined, peerId: undefined, idle: false };
    this.targets.set(key, target);
    this.connectTo(target);
  }

  connectedPeers(): string[] {
    return [...this.peers.keys()];
  }

  send(id: string, bytes: Uint8Array): boolean {
    return this.peers.get(id)?.send(bytes) ?? false;
  }

  broadcast(bytes: Uint8Array): void {
    for (const p of this.peers.values()) p.send(bytes);
  }

  stats(): Record<string, { framesIn: number; framesOut: number; dropped: number }> {
    return Object.fromEntries([...this.peers].map(([id, p]) => [id, { framesIn: p.stats.framesIn, framesOut: p.stats.framesOut, dropped: p.stats.dropped }]));
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.targets.values()) clearTimeout(t.timer);
    for (const p of [...this.peers.values(), ...this.pending]) p.close(undefined);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ---- connections ----------------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.stopped || this.peers.size + this.pending.size >= this.options.peersMax) return void socket.destroy();
    this.adopt(new PeerConnection(socket, "responder", this.me, this.options, this.peerEvents(undefined)));
  }

  private connectTo(target: DialTarget): void {
    if (this.stopped) return;
    const socket = connect({ host: target.address.host, port: target.address.port });
    target.connection = new PeerConnection(socket, "initiator", this.me, this.options, this.peerEvents(target));
    this.adopt(target.connection);
  }

  private adopt(c: PeerConnection): void {
    this.pending.add(c);
  }

  private peerEvents(target: DialTarget | undefined) {
    return {
      authenticated: (c: PeerConnection) => {
        this.pending.delete(c);
        if (target) {
          target.failures = 0;
          target.peerId = c.id;
        }
        const existing = this.peers.get(c.id);
        if (existing && existing.isOpen) {
          // Keep the connection dialled by the lower id (the older one if both were dialled by the same side).
          const dialler = (x: PeerConnection) => (x.role === "initiator" ? this.selfId : x.id);
          if (!(dialler(c) < dialler(existing))) return c.close(new P2pError("P2P_DUPLICATE", `already connected to ${c.id}`));
          this.peers.set(c.id, c); // before closing the old one, so its dial target sees a live peer and idles
          existing.close(new P2pError("P2P_DUPLICATE", `replaced by the connection dialled by the lower id`));
        }
        this.peers.set(c.id, c);
        this.log.info({ peer: c.id, role: c.role }, "peer connected");
        this.events.peerUp(c.id);
      },
      frame: (c: PeerConnection, bytes: Uint8Array) => this.events.frame(c.id, bytes),
      closed: (c: PeerConnection, reason: Error | undefined) => {
        this.pending.delete(c);
        const code = (reason as P2pError | undefined)?.code;
        const integrity = code !== undefined && linkIntegrityCodes.has(code);
        if (integrity) this.log.warn({ peer: c.id || undefined, address: c.remote || undefined, role: c.role, code, reason: reason!.message, authenticated: c.id !== "" }, "p2p link failed an integrity check; dropped (a dialled peer is redialled)");
        if (c.id && this.peers.get(c.id) === c) {
          this.peers.delete(c.id);
          if (!integrity) this.log.info({ peer: c.id, code, reason: reason?.message }, "peer disconnected");
          this.events.peerDown(c.id);
          // Addresses that went quiet because this peer's own dial served us: dial them again.
          for (const t of this.targets.values()) {
            if (t.idle && t.peerId === c.id) {
              t.idle = false;
              this.connectTo(t);
            }
          }
        } else if (reason && !integrity && !(reason instanceof P2pError && reason.code === "P2P_DUPLICATE")) {
          this.log.debug({ peer: c.id || undefined, code: (reason as P2pError).code, reason: reason.message }, "connection failed");
        }
        if (target && target.connection === c) this.redial(target, reason);
      },
    };
  }

  private redial(target: DialTarget, reason: Error | undefined): void {
    target.connection = undefined;
    if (this.stopped) return;
    if (reason instanceof P2pError && reason.code === "P2P_SELF") return; // our own address: never again
    if (reason instanceof P2pError && reason.code === "P2P_DUPLICATE" && target.peerId && this.peers.has(target.peerId)) {
      target.idle = true; // redialled when that connection drops (closed handler above)
      return;
    }
    target.failures = Math.min(target.failures + 1, 30);
    const base = Math.min(this.options.reconnectMaxMs, this.options.reconnectBaseMs * 2 ** (target.failures - 1));
    const delay = base * (1 + this.options.reconnectJitter * (2 * this.random() - 1));
    target.timer = setTimeout(() => {
      target.timer = undefined;
      if (!this.stopped) this.connectTo(target);
    }, delay);
    target.timer.unref();
  }
}
