// One TCP connection to another gateway: the handshake (handshake.ts), then sealed frames both ways
// (session-cipher.ts) under limits. Inbound: every frame passes the peer's token buckets (frames
// and bytes per second) or is dropped unopened; a peer that keeps flooding is disconnected; a frame
// that fails its tag ends the connection. Outbound: frames are sealed and queue in the socket up to
// queueFramesMax / queueBytesMax; a peer that does not read is disconnected rather than buffered
// without end. Nothing here understands what a frame means.
import type { KeyObject } from "node:crypto";
import type { Socket } from "node:net";
import { deviceIdFromPublicKey, toHex } from "../../shared/ed25519.ts";
import { P2pError } from "./errors.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { Handshake, type Role } from "./handshake.ts";
import type { P2pOptions } from "./options.ts";
import { aeadTagBytes, type FrameOpener, type FrameSealer } from "./session-cipher.ts";
import { TokenBucket } from "../token-bucket.ts";

export interface LocalIdentity {
  chainId: string;
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

export interface PeerEvents {
  /** The peer proved its key; `id` is its account/validator id in hex. */
  authenticated(peer: PeerConnection): void;
  frame(peer: PeerConnection, bytes: Uint8Array): void;
  closed(peer: PeerConnection, reason: P2pError | Error | undefined): void;
}

export class PeerConnection {
  id = "";
  publicKey: Uint8Array | undefined;
  /** "host:port" of the other end, known from its first bytes (for log lines after the socket is gone). */
  remote = "";
  private readonly decoder: FrameDecoder;
  private readonly handshake: Handshake;
  private sealer: FrameSealer | undefined;
  private opener: FrameOpener | undefined;
  private open = false;
  private closed = false;
  private queuedFrames = 0;
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private dropsInRow = 0;
  private readonly handshakeTimer: NodeJS.Timeout;
  readonly stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 };

  constructor(
    readonly socket: Socket,
    readonly role: Role,
    me: LocalIdentity,
    private readonly options: P2pOptions,
    private readonly events: PeerEvents,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.decoder = new FrameDecoder(options.frameBytesMax + aeadTagBytes);
    this.handshake = new Handshake(role, me, options.sessionFramesMax);
    this.frames = new TokenBucket(options.rateFramesPerS, options.rateFramesBurst, nowMs());
    this.bytes = new TokenBucket(options.rateBytesPerS, options.rateBytesBurst, nowMs());
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.close(e));
    socket.on("close", () => this.close(undefined));
    socket.on("drain", () => (this.queuedFrames = 0));
    this.handshakeTimer = setTimeout(() => this.close(new P2pError("P2P_HANDSHAKE_TIMEOUT", `peer did not prove its key within ${options.handshakeTimeoutMs} ms`)), options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    this.write(this.handshake.hello);
  }

  get isOpen(): boolean {
    return this.open && !this.closed;
  }

  /** Queues a frame; closes the connection when the peer has stopped reading. */
  send(payload: Uint8Array): boolean {
    if (!this.isOpen) return false;
    if (payload.length > this.options.frameBytesMax) throw new P2pError("P2P_FRAME_TOO_LARGE", `frame of ${payload.length} bytes over the limit ${this.options.frameBytesMax}`);
    if (this.queuedFrames >= this.options.queueFramesMax || this.socket.writableLength + payload.length > this.options.queueBytesMax) {
      this.close(new P2pError("P2P_QUEUE_FULL", `peer ${this.id} is not reading: ${this.queuedFrames} frames, ${this.socket.writableLength} bytes queued`));
      return false;
    }
    let sealed: Uint8Array;
    try {
      sealed = this.sealer!.seal(payload);
    } catch (e) {
      this.close(e as Error); // P2P_SESSION_EXHAUSTED: the redial makes new keys
      return false;
    }
    this.write(sealed);
    this.stats.framesOut++;
    this.stats.bytesOut += sealed.length;
    return true;
  }

  close(reason: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    this.socket.destroy();
    this.events.closed(this, reason);
  }

  private write(payload: Uint8Array): void {
    this.socket.write(encodeFrame(payload));
    if (this.socket.writableLength > 0) this.queuedFrames++;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (!this.remote) this.remote = `${this.socket.remoteAddress}:${this.socket.remotePort}`;
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      return this.close(e as Error);
    }
    for (const f of frames) {
      if (this.closed) return;
      if (!this.open) this.onHandshakeFrame(f);
      else this.deliver(f);
    }
  }

  private onHandshakeFrame(frame: Uint8Array): void {
    let established;
    try {
      const step = this.handshake.receive(frame);
      for (const f of step.send) this.write(f);
      established = step.established;
    } catch (e) {
      return this.close(e as Error);
    }
    if (!established) return;
    clearTimeout(this.handshakeTimer);
    this.sealer = established.sealer;
    this.opener = established.opener;
    this.publicKey = established.peer.publicKey;
    this.id = toHex(deviceIdFromPublicKey(established.peer.publicKey));
    this.open = true;
    this.events.authenticated(this);
  }

  private deliver(frame: Uint8Array): void {
    const now = this.nowMs();
    this.stats.framesIn++;
    this.stats.bytesIn += frame.length;
    if (!this.frames.take(now) || !this.bytes.take(now, frame.length)) {
      this.stats.dropped++;
      try {
        this.opener!.skip(); // dropped unopened: a flood costs no decryption
      } catch (e) {
        return this.close(e as Error);
      }
      if (++this.dropsInRow > this.options.rateDropsBeforeCloseMax) this.close(new P2pError("P2P_RATE_LIMITED", `peer ${this.id} exceeded ${this.options.rateFramesPerS} frames/s or ${this.options.rateBytesPerS} bytes/s for ${this.dropsInRow} frames`));
      return;
    }
    this.dropsInRow = 0;
    let payload: Uint8Array;
    try {
      payload = this.opener!.open(frame);
    } catch (e) {
      return this.close(e as Error); // P2P_DECRYPT: nothing more from this connection is trusted
    }
    this.events.frame(this, payload);
  }
}
