// A TCP relay on loopback in front of one gateway's p2p port that records every byte it passes,
// both ways, as a passive observer on the path would see them; and, when told, flips one byte in
// the middle of the next frame (gateway/p2p/frame.ts's length prefix tells it where frames are) to
// play an active attacker. Dialers connect to the proxy's port; each gets its own upstream socket.
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export type Direction = "toTarget" | "toDialer";

/** Where frames are in one direction's byte stream: 4-byte big-endian length, then the payload. */
class FrameTracker {
  frames = 0;
  private offset = 0; // stream bytes seen so far
  private header: number[] = [];
  private remaining = 0; // payload bytes of the current frame still to come
  private flipAt = -1; // stream offset of the byte to flip, once chosen
  armed: { minFrame: number; onFlip: (frame: number) => void } | undefined;

  /** Advances over a chunk; flips the armed byte in place when the chunk holds it. */
  pass(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; ) {
      if (this.remaining === 0) {
        this.header.push(chunk[i++]);
        if (this.header.length === 4) {
          this.remaining = Buffer.from(this.header).readUInt32BE(0);
          this.header = [];
          const frame = this.frames++;
          if (this.armed && frame >= this.armed.minFrame && this.remaining >= 32 && this.flipAt < 0) this.flipAt = this.offset + i + (this.remaining >> 1);
        }
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      const at = this.flipAt - this.offset;
      if (this.flipAt >= 0 && at >= i && at < i + take) {
        chunk[at] ^= 0x01;
        this.flipAt = -1;
        const armed = this.armed!;
        this.armed = undefined;
        armed.onFlip(this.frames - 1);
      }
      this.remaining -= take;
      i += take;
    }
    this.offset += chunk.length;
  }
}

export class ProxiedConnection {
  readonly chunks: Record<Direction, Buffer[]> = { toTarget: [], toDialer: [] };
  readonly trackers: Record<Direction, FrameTracker> = { toTarget: new FrameTracker(), toDialer: new FrameTracker() };
  closed = false;

  constructor(
    readonly index: number,
    readonly dialer: Socket,
    readonly upstream: Socket,
  ) {}

  bytes(direction: Direction): Buffer {
    return Buffer.concat(this.chunks[direction]);
  }
}

export class RecordingTcpProxy {
  readonly connections: ProxiedConnection[] = [];

  private constructor(
    private readonly server: Server,
    readonly target: { host: string; port: number },
  ) {}

  static async open(target: { host: string; port: number }, listenPort = 0): Promise<RecordingTcpProxy> {
    const server = createServer();
    const proxy = new RecordingTcpProxy(server, target);
    server.on("connection", (s) => proxy.relay(s));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenPort, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Every byte relayed so far, connection by connection and direction by direction. */
  captures(): { connection: number; direction: Direction; bytes: Buffer }[] {
    return this.connections.flatMap((c) => (["toTarget", "toDialer"] as Direction[]).map((direction) => ({ connection: c.index, direction, bytes: c.bytes(direction) })));
  }

  live(): ProxiedConnection[] {
    return this.connections.filter((c) => !c.closed);
  }

  /**
   * Flips one bit in the middle of the next frame (of at least 32 bytes, from frame index
   * `minFrame` on) that `connection` carries in `direction`; resolves with that frame's index.
   */
  flipNextFrame(connection: ProxiedConnection, direction: Direction, minFrame = 2): Promise<number> {
    return new Promise((resolve) => (connection.trackers[direction].armed = { minFrame, onFlip: resolve }));
  }

  async close(): Promise<void> {
    for (const c of this.connections) {
      c.dialer.destroy();
      c.upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private relay(dialer: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    const c = new ProxiedConnection(this.connections.length, dialer, upstream);
    this.connections.push(c);
    const pipe = (from: Socket, to: Socket, direction: Direction) => {
      from.on("data", (chunk: Buffer) => {
        const copy = Buffer.from(chunk); // the tracker may flip a byte: record what was sent on
        c.trackers[direction].pass(copy);
        c.chunks[direction].push(copy);
        if (!to.write(copy)) {
          from.pause();
          to.once("drain", () => from.resume());
        }
      });
    };
    pipe(dialer, upstream, "toTarget");
    pipe(upstream, dialer, "toDialer");
    const end = () => {
      c.closed = true;
      dialer.destroy();
      upstream.destroy();
    };
    for (const s of [dialer, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
  }
}
