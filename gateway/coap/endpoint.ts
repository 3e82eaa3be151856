// One CoAP endpoint per transport, all sharing one request handler: a `coap` server bound to a UDP
// socket, and one per serial port fed through SerialSocket (SLIP). In front of each, admission.ts
// sees the raw message first, so the `coap` package only ever handles well-formed GET/POST requests
// and the Empty ACK/RST that settle or cancel our separate responses, which are never answered.
//
// The `coap` server de-duplicates confirmable requests by message id (RFC 7252 §4.5) and answers
// a retransmission from its response cache, on UDP; on serial (not a dgram socket for it) the
// retransmission reaches the handler again, where the ingest pipeline answers it idempotently.
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { Server as CoapServer, type IncomingMessage, type OutgoingMessage } from "coap";
import type { Logger } from "pino";
import { admit, type AdmissionLimits } from "./admission.ts";
import { responseFor, TYPE_CON, type CoapMessage } from "./message.ts";
import type { AdmittedRemote } from "./resources.ts";
import type { SerialSocket } from "./serial-socket.ts";

export interface EndpointStats {
  passed: number;
  answeredHere: number;
  dropped: number;
}

type Transport = "udp" | "serial";
type RequestHandler = (req: IncomingMessage, res: OutgoingMessage) => void;
/**
 * Payload uploads (PUT /p/..., admission.ts): the message and its source ("udp:host:port") in, the
 * whole response datagram out (undefined: no answer). Synchronous: blocks are answered in arrival order.
 */
export type UploadHandler = (m: CoapMessage, source: string) => Buffer | undefined;

/** Anything the endpoint can send through: a dgram socket or a SerialSocket. */
interface Sender {
  send(msg: Buffer, offset: number, length: number, port: number, address: string, cb?: (err: Error | null) => void): void;
}

class AdmittingServer extends CoapServer {
  constructor(
    options: ConstructorParameters<typeof CoapServer>[0],
    private readonly transport: Transport,
    private readonly sender: () => Sender,
    private readonly limits: AdmissionLimits,
    private readonly stats: EndpointStats,
    private readonly log: Logger,
    private readonly uploads: () => UploadHandler | undefined,
  ) {
    super(options);
  }

  override handleRequest(): (msg: Buffer, rsinfo: AddressInfo) => void {
    const inner = super.handleRequest();
    return (msg, rsinfo) => {
      const a = admit(msg, this.limits);
      if (a.action === "pass") {
        this.stats.passed++;
        const remote: AdmittedRemote = { ...rsinfo, coap: a.message, transport: this.transport, datagramBytes: msg.length };
        return inner(a.bytes, remote);
      }
      if (a.action === "upload") return this.upload(a.message, rsinfo);
      this.log.debug({ remote: `${rsinfo.address}:${rsinfo.port}`, reason: a.reason, action: a.action }, "message not passed to handlers");
      if (a.action === "drop") return void this.stats.dropped++;
      this.stats.answeredHere++;
      this.sender().send(a.bytes, 0, a.bytes.length, rsinfo.port, rsinfo.address);
    };
  }

  private upload(m: CoapMessage, rsinfo: AddressInfo): void {
    this.stats.passed++;
    const handler = this.uploads();
    let reply: Buffer | undefined;
    try {
      reply = handler?.(m, `${this.transport}:${rsinfo.address}:${rsinfo.port}`);
    } catch (e) {
      this.log.error({ err: e, code: "INTERNAL" }, "payload upload handler failed");
    }
    // A gateway without a payload store: 4.04 to a CON (no payload: never larger than the request), nothing to a NON.
    if (!handler && m.type === TYPE_CON) reply = responseFor(m, "4.04", Buffer.alloc(0));
    if (reply) this.sender().send(reply, 0, reply.length, rsinfo.port, rsinfo.address);
  }
}

export interface EndpointOptions {
  limits: AdmissionLimits;
  /** How long a response may take before an empty ACK goes first (RFC 7252 §5.2.2). */
  piggybackReplyMs: number;
  /** Kernel receive buffer: bursts arriving while a commit syncs wait here, not on the floor. */
  udpReceiveBufferBytes: number;
}

export class CoapEndpoint {
  readonly stats: EndpointStats = { passed: 0, answeredHere: 0, dropped: 0 };
  private readonly servers: CoapServer[] = [];
  private readonly udpSockets: Socket[] = [];
  /** Set by the payload subsystem; without it uploads get no answer (a CON is retransmitted, then given up). */
  uploadHandler: UploadHandler | undefined;

  constructor(
    private readonly handler: RequestHandler,
    private readonly options: EndpointOptions,
    private readonly log: Logger,
  ) {}

  private server(transport: Transport, sender: () => Sender): CoapServer {
    const server = new AdmittingServer({ piggybackReplyMs: this.options.piggybackReplyMs }, transport, sender, this.options.limits, this.stats, this.log, () => this.uploadHandler);
    server.on("request", (req: IncomingMessage, res: OutgoingMessage) => {
      // An Empty RST that matches no exchange of ours falls through the `coap` server (1.5.0) to
      // 'request': its test `packet.ack ?? packet.reset` is false for a RST. An Empty message is
      // never a request and is never answered (RFC 7252 §4.2, §4.3): it only cancels an exchange.
      if ((req.rsinfo as AdmittedRemote).coap.code === 0) return;
      this.handler(req, res);
    });
    // A socket error (e.g. ICMP unreachable surfacing on send) must never crash the gateway.
    server.on("error", (err: Error) => this.log.warn({ err, transport, code: "TRANSPORT_ERROR" }, "transport error"));
    this.servers.push(server);
    return server;
  }

  /** Binds UDP `host:port` (port 0: any free one) and returns the bound address. */
  async listenUdp(host: string, port: number): Promise<AddressInfo> {
    const socket = createSocket({ type: host.includes(":") ? "udp6" : "udp4", recvBufferSize: this.options.udpReceiveBufferBytes });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    this.udpSockets.push(socket);
    this.server("udp", () => socket).listen(socket);
    return socket.address();
  }

  listenSerial(socket: SerialSocket): void {
    this.server("serial", () => socket).listen(socket);
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    await Promise.all(this.udpSockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
