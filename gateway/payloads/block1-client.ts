// Uploading a payload to a gateway over CoAP/UDP with Block1 (RFC 7959): PUT /p/<SHA-256 hex>, one
// confirmable block at a time (lock-step, §2.5), each retransmitted per RFC 7252 §4.2 (ACK_TIMEOUT ×
// random [1, ACK_RANDOM_FACTOR], doubling, MAX_RETRANSMIT times). A lost ACK makes the gateway see a
// block twice; it acknowledges it again without writing it twice. The first block carries Size1 (§4),
// so a gateway refuses a payload over its limit (4.13) before any byte is sent. Used by
// `mote payload put` and the tests.
import { createSocket, type Socket } from "node:dgram";
import { randomBytes, randomInt } from "node:crypto";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { decodeBlockOption, encodeBlockOption, szxOf } from "../coap/block-option.ts";
import { codeString, encodeMessage, METHOD_PUT, option, optionUint, parseMessage, TYPE_ACK, TYPE_CON, TYPE_RST, uintValue, type CoapMessage } from "../coap/message.ts";
import { PayloadError } from "./errors.ts";

export interface Block1ClientOptions {
  host: string;
  port: number;
  /** 16..1024. */
  blockBytes: number;
  /** RFC 7252 §4.8 defaults: 2000 ms, 1.5, 4. Loopback tests use far less. */
  ackTimeoutMs: number;
  ackRandomFactor: number;
  retransmitMax: number;
  onBlock?: (p: { num: number; blocks: number; retransmissions: number }) => void;
}

export const block1ClientDefaults = { blockBytes: 1024, ackTimeoutMs: 2000, ackRandomFactor: 1.5, retransmitMax: 4 };

export interface UploadResult {
  code: string;
  sha256: string;
  blocks: number;
  retransmissions: number;
}


export async function uploadPayload(bytes: Uint8Array, o: Partial<Block1ClientOptions> & { host: string; port: number }): Promise<UploadResult> {
  const opts: Block1ClientOptions = { ...block1ClientDefaults, ...o };
  const szx = szxOf(opts.blockBytes);
  const digestHex = toHex(sha256(bytes));
  const blocks = Math.max(1, Math.ceil(bytes.length / opts.blockBytes));
  const socket = createSocket(opts.host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((r) => socket.bind(0, r));
  const exchange = new Exchange(socket, opts);
  let retransmissions = 0;
  try {
    let messageId = randomInt(0x10000);
    for (let num = 0; num < blocks; num++) {
      const more = num < blocks - 1;
      const chunk = bytes.subarray(num * opts.blockBytes, Math.min(bytes.length, (num + 1) * opts.blockBytes));
      const options = [
        { number: option.uriPath, value: Buffer.from("p") },
        { number: option.uriPath, value: Buffer.from(digestHex) },
        { number: option.block1, value: encodeBlockOption({ num, more, szx }) },
        ...(num === 0 ? [{ number: option.size1, value: uintValue(bytes.length) }] : []),
      ];
      messageId = (messageId + 1) & 0xffff;
      const request = encodeMessage({ type: TYPE_CON, code: METHOD_PUT, messageId, token: randomBytes(4), options, payload: Buffer.from(chunk) });
      const { response, retransmitted } = await exchange.send(request, messageId);
      retransmissions += retransmitted;
      opts.onBlock?.({ num, blocks, retransmissions });
      const code = codeString(response.code);
      const diagnostic = response.payload.toString("utf8");
      if (more && code === "2.31") {
        const echo = response.options.find((x) => x.number === option.block1);
        if (!echo || decodeBlockOption(echo.value).num !== num) throw new PayloadError("PAYLOAD_BLOCK", `block ${num}: the gateway's 2.31 does not acknowledge it`);
        continue;
      }
      if (!more && (code === "2.01" || code === "2.04")) return { code, sha256: digestHex, blocks, retransmissions };
      const size1 = response.options.find((x) => x.number === option.size1);
      const limit = size1 ? ` (the gateway takes at most ${optionUint(size1.value)} bytes)` : "";
      const errCode = code === "4.13" ? "PAYLOAD_TOO_LARGE" : code === "4.08" ? "PAYLOAD_INCOMPLETE" : code === "5.03" ? "PAYLOAD_BUSY" : "PAYLOAD_REFUSED";
      throw new PayloadError(errCode, `block ${num}: the gateway answered ${code}${diagnostic ? ` ${diagnostic}` : ""}${limit}`);
    }
    throw new Error("unreachable: the last block returns or throws");
  } finally {
    exchange.close();
    await new Promise<void>((r) => socket.close(() => r()));
  }
}

/** One confirmable request at a time: retransmits until the ACK (piggybacked response) or RST arrives. */
class Exchange {
  private waiting: { messageId: number; resolve: (m: CoapMessage) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly o: Block1ClientOptions,
  ) {
    socket.on("message", (msg) => this.onMessage(msg));
  }

  private onMessage(msg: Buffer): void {
    let m: CoapMessage;
    try {
      m = parseMessage(msg);
    } catch {
      return; // not CoAP: ignored
    }
    const w = this.waiting;
    if (!w || m.messageId !== w.messageId) return; // a late answer to a retransmission already answered
    if (m.type === TYPE_RST) return w.reject(new PayloadError("PAYLOAD_REFUSED", "the gateway reset the exchange (RST)"));
    // This gateway always piggybacks its answer (the upload path answers synchronously).
    if (m.type === TYPE_ACK && m.code !== 0) w.resolve(m);
  }

  send(request: Buffer, messageId: number): Promise<{ response: CoapMessage; retransmitted: number }> {
    return new Promise((resolve, reject) => {
      let retransmitted = 0;
      let timeoutMs = this.o.ackTimeoutMs * (1 + Math.random() * (this.o.ackRandomFactor - 1));
      let timer: NodeJS.Timeout;
      const finish = () => {
        clearTimeout(timer);
        this.waiting = undefined;
      };
      const transmit = () => {
        this.socket.send(request, this.o.port, this.o.host);
        timer = setTimeout(() => {
          if (retransmitted >= this.o.retransmitMax) {
            finish();
            return reject(new PayloadError("PAYLOAD_TIMEOUT", `no answer from ${this.o.host}:${this.o.port} after ${retransmitted + 1} transmissions`));
          }
          retransmitted++;
          timeoutMs *= 2;
          transmit();
        }, timeoutMs);
      };
      this.waiting = {
        messageId,
        resolve: (m) => {
          finish();
          resolve({ response: m, retransmitted });
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      transmit();
    });
  }

  close(): void {
    this.waiting?.reject(new PayloadError("PAYLOAD_TIMEOUT", "upload closed"));
  }
}
