// A minimal CoAP client for gateway tests (RFC 7252), on a real UDP socket: one request at a time
// per call, matched by token; handles piggybacked and separate responses (ACKing the latter).
// No retransmission: on loopback nothing is lost, and a missing answer should fail the test.
import { createSocket, type Socket } from "node:dgram";
import { randomBytes, randomInt } from "node:crypto";
import { encodeMessage, parseMessage, uintValue, option, TYPE_ACK, TYPE_CON, TYPE_NON, type CoapMessage, type CoapOption } from "../../gateway/coap/message.ts";

export interface CoapReply {
  code: string;
  payload: Buffer;
  options: CoapOption[];
  message: CoapMessage;
}

export interface RequestSpec {
  method: "GET" | "POST" | number;
  path: string;
  payload?: Uint8Array;
  contentFormat?: number;
  confirmable?: boolean;
  extraOptions?: CoapOption[];
}

export const codeOf = (byte: number) => `${byte >> 5}.${String(byte & 31).padStart(2, "0")}`;

export function buildRequest(spec: RequestSpec, messageId = randomInt(0x10000), token: Buffer = randomBytes(4)): Buffer {
  const options: CoapOption[] = [];
  for (const seg of spec.path.split("/").filter(Boolean)) options.push({ number: option.uriPath, value: Buffer.from(seg) });
  if (spec.contentFormat !== undefined) options.push({ number: option.contentFormat, value: uintValue(spec.contentFormat) });
  options.push(...(spec.extraOptions ?? []));
  const code = typeof spec.method === "number" ? spec.method : spec.method === "GET" ? 1 : 2;
  return encodeMessage({ type: spec.confirmable === false ? TYPE_NON : TYPE_CON, code, messageId, token, options, payload: Buffer.from(spec.payload ?? []) });
}

export class TestCoapClient {
  private constructor(private readonly socket: Socket, readonly host: string, readonly port: number) {}

  static async open(port: number, host = "127.0.0.1"): Promise<TestCoapClient> {
    const socket = createSocket("udp4");
    socket.setMaxListeners(0); // one listener per outstanding request: any number may be in flight
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
    return new TestCoapClient(socket, host, port);
  }

  /** Sends raw bytes; resolves with every datagram received within `waitMs`. */
  async raw(bytes: Uint8Array, waitMs = 200): Promise<Buffer[]> {
    const got: Buffer[] = [];
    const onMessage = (m: Buffer) => got.push(m);
    this.socket.on("message", onMessage);
    this.socket.send(bytes, this.port, this.host);
    await new Promise((r) => setTimeout(r, waitMs));
    this.socket.off("message", onMessage);
    return got;
  }

  request(spec: RequestSpec, timeoutMs = 10_000): Promise<CoapReply> {
    const token = randomBytes(4);
    const mid = randomInt(0x10000);
    const bytes = buildRequest(spec, mid, token);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off("message", onMessage);
        reject(new Error(`no CoAP response to ${spec.method} /${spec.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (msg: Buffer) => {
        let m: CoapMessage;
        try {
          m = parseMessage(msg);
        } catch {
          return;
        }
        if (m.code === 0) return; // empty ACK: the response follows separately (§5.2.2)
        if (!m.token.equals(token)) return;
        if (m.type === TYPE_CON) this.socket.send(encodeMessage({ type: TYPE_ACK, code: 0, messageId: m.messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }), this.port, this.host);
        clearTimeout(timer);
        this.socket.off("message", onMessage);
        resolve({ code: codeOf(m.code), payload: m.payload, options: m.options, message: m });
      };
      this.socket.on("message", onMessage);
      this.socket.send(bytes, this.port, this.host);
    });
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}
