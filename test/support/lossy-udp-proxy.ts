// A UDP relay between devices and a gateway that loses datagrams at random, both ways, from a
// seeded generator (reproducible). Devices send to the proxy's port and hear answers from that same
// port; each device gets its own upstream socket, so the gateway sees one address per device.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { rng } from "./prng.ts";

export interface LossyProxyStats {
  upstream: number; // device → gateway datagrams seen
  downstream: number; // gateway → device
  droppedUp: number;
  droppedDown: number;
}

export class LossyUdpProxy {
  readonly stats: LossyProxyStats = { upstream: 0, downstream: 0, droppedUp: 0, droppedDown: 0 };
  private readonly upstreams = new Map<string, Socket>();
  private readonly random: () => number;

  private constructor(
    private readonly front: Socket,
    readonly target: { host: string; port: number },
    /** Probability in [0, 1) that a datagram is lost, each direction. */
    public lossRate: number,
    seed: number,
  ) {
    this.random = rng(seed);
    front.on("message", (msg, rinfo) => this.fromDevice(msg, rinfo));
  }

  static async open(target: { host: string; port: number }, lossRate: number, seed = 1): Promise<LossyUdpProxy> {
    const front = createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => front.bind(0, "127.0.0.1", () => r()));
    return new LossyUdpProxy(front, target, lossRate, seed);
  }

  get port(): number {
    return this.front.address().port;
  }

  private fromDevice(msg: Buffer, device: RemoteInfo): void {
    this.stats.upstream++;
    const key = `${device.address}:${device.port}`;
    let up = this.upstreams.get(key);
    if (!up) {
      up = createSocket("udp4");
      up.bind(0, "127.0.0.1");
      up.on("error", () => {}); // gateway down (kill -9 tests): the datagram is simply lost
      up.on("message", (reply) => {
        this.stats.downstream++;
        if (this.random() < this.lossRate) return void this.stats.droppedDown++;
        this.front.send(reply, device.port, device.address);
      });
      this.upstreams.set(key, up);
    }
    if (this.random() < this.lossRate) return void this.stats.droppedUp++;
    up.send(msg, this.target.port, this.target.host);
  }

  async close(): Promise<void> {
    const all = [this.front, ...this.upstreams.values()];
    await Promise.all(all.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
