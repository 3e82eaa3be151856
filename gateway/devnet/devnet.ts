// The local network `npm start` runs: n gateway processes as PBFT validators on loopback, a fleet
// of board emulators running the real firmware.wasm (over UDP, and one over a pseudo-terminal
// serial line when socat is available), enrolled on chain by the network's device owner; and, when
// the toolchain is installed, the same firmware on an emulated Cortex-M3 board under qemu on a
// second serial line (qemu-device.ts).
// Everything lives under one directory, reused on the next start, and locked while a network
// runs there (devnet.lock, holding the pid of its npm start): a second start refuses.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MoteError } from "../../shared/errors.ts";
import { lockPidFile } from "../ingest/data-dir-lock.ts";
import { initLocalNetwork } from "../chain/local-network.ts";
import { readKeyFile } from "../chain/keyfile.ts";
import { Board, type BoardOptions } from "../../hardware/emulator/board.ts";
import { defaultFirmwarePath } from "../../hardware/emulator/firmware.ts";
import { HOST_ABI_VERSION } from "../../hardware/emulator/boot-loader.ts";
import { signManifest } from "../../shared/firmware-manifest.ts";
import { sha256 } from "../../shared/ed25519.ts";
import { Fleet, type FleetMember } from "../../hardware/emulator/fleet.ts";
import { openPtyPair, socatAvailable, type PtyPair } from "../../hardware/emulator/pty-pair.ts";
import { GatewayProcess, type GatewayStatus } from "./processes.ts";
import { enrollFleet } from "./enroll.ts";
import { QemuDevice } from "./qemu-device.ts";

export interface DevnetOptions {
  dir: string;
  fresh: boolean;
  gateways: number;
  devices: number;
  serialDevice: boolean;
  /** The mps2-an385 board under qemu, when its toolchain is installed (default true). */
  qemuBoard?: boolean;
  readingIntervalMs: number;
  basePorts: { udp: number; p2p: number; api: number };
  progress: (line: string) => void;
  /** Aborts a start in progress (a signal arrived): what was started is stopped, start rejects. */
  signal?: AbortSignal;
}

export const devnetLockFile = "devnet.lock";

/** Takes `dir`'s devnet lock for this process; a live holder makes it throw DEVNET_RUNNING. */
export function lockDevnetDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  return lockPidFile(join(dir, devnetLockFile), (pid) =>
    pid === undefined
      ? new MoteError("DEVNET_RUNNING", `another npm start is starting in ${dir}; wait for it or use --dir <another directory>`)
      : new MoteError("DEVNET_RUNNING", `a network is already running in ${dir} (npm start, pid ${pid}); stop it first (kill ${pid}) or use --dir <another directory>`),
  );
}

export class Devnet {
  private constructor(
    readonly options: DevnetOptions,
    readonly gateways: GatewayProcess[],
    readonly fleet: Fleet,
    private readonly serialLine: PtyPair | undefined,
    private readonly unlock: () => void,
    readonly qemuDevice: QemuDevice | undefined,
  ) {}

  static async start(o: DevnetOptions): Promise<Devnet> {
    const netDir = join(o.dir, "net");
    // The lock first: a second start must neither delete (--fresh) nor reuse a running network's files.
    const unlock = lockDevnetDir(o.dir);
    try {
      if (o.fresh) for (const name of readdirSync(o.dir)) if (name !== devnetLockFile) rmSync(join(o.dir, name), { recursive: true, force: true });
      return await Devnet.startLocked(o, netDir, unlock);
    } catch (e) {
      unlock();
      throw e;
    }
  }

  private static async startLocked(o: DevnetOptions, netDir: string, unlock: () => void): Promise<Devnet> {
    if (!existsSync(join(netDir, "genesis.json"))) {
      initLocalNetwork({ dir: netDir, gateways: o.gateways, devicesOwner: true, firmwarePublisher: true, basePort: o.basePorts.p2p });
      o.progress(`[1/5] created network: ${o.gateways} validators (${netDir})`);
    } else o.progress(`[1/5] reusing network in ${netDir} (--fresh to start over)`);

    const serial = o.serialDevice ? await openSerialLine(o.progress) : undefined;
    const qemu = o.qemuBoard !== false ? await QemuDevice.open(o.dir, o.progress) : undefined;
    const gateways: GatewayProcess[] = [];
    const cleanup = async () => {
      await qemu?.close();
      await Promise.all(gateways.map((g) => g.stop()));
      await serial?.close();
    };
    try {
      for (let i = 1; i <= o.gateways; i++) {
        gateways.push(
          GatewayProcess.spawn({
            index: i,
            dataDir: join(o.dir, `gateway-${i}`),
            logPath: join(o.dir, `gateway-${i}.log`),
            genesisPath: join(netDir, "genesis.json"),
            keyPath: join(netDir, `gateway-${i}.key.json`),
            udpPort: o.basePorts.udp + i,
            p2pPort: o.basePorts.p2p + i,
            apiPort: o.basePorts.api + i - 1,
            peers: Array.from({ length: o.gateways }, (_, j) => o.basePorts.p2p + j + 1).filter((p) => p !== o.basePorts.p2p + i),
            payloadPeerApiPorts: Array.from({ length: o.gateways }, (_, j) => o.basePorts.api + j).filter((p) => p !== o.basePorts.api + i - 1),
            serialPaths: i === 1 ? [serial?.b, qemu?.gatewaySide].filter((p): p is string => p !== undefined) : [],
          }),
        );
      }
      let up = 0;
      await Promise.all(gateways.map((g) => g.ready(60_000, o.signal).then(() => o.progress(`[2/5] gateway ${g.spec.index} up (${++up}/${o.gateways}) API ${g.apiUrl}`))));

      o.signal?.throwIfAborted();
      const members = await bootBoards(o, gateways, serial?.a, factoryFirmware(netDir));
      const qemuIdentity = await qemu?.identity();
      o.progress(`[3/5] ${members.length} boards booted with the real firmware${qemuIdentity ? ", and the mps2-an385 board under qemu (Cortex-M3, wasm2c)" : ""}`);
      const owner = readKeyFile(join(netDir, "owner.key.json"));
      const enrolling = members.map((m) => ({ publicKey: m.board.publicKey, deviceId: m.board.deviceId, label: m.label }));
      if (qemuIdentity) enrolling.push({ ...qemuIdentity, label: "mote-mps2-an385" });
      const added = await enrollFleet(gateways.map((g) => g.apiUrl), owner, enrolling, 120_000, (n, total) => o.progress(`[4/5] devices enrolled on chain: ${n}/${total}`));
      o.progress(`[4/5] ${added} new enrollments finalized`);
      o.signal?.throwIfAborted();
      const fleet = new Fleet(members);
      fleet.start(o.readingIntervalMs);
      if (qemu) {
        const board = await qemu.start(o.readingIntervalMs);
        o.progress(`      mps2-an385 board ${board.deviceIdHex} on gateway 1's serial line (console: ${qemu.logPath})`);
      }
      o.progress(`[5/5] devices sending a reading every ${o.readingIntervalMs / 1000} s`);
      return new Devnet(o, gateways, fleet, serial, unlock, qemu);
    } catch (e) {
      await cleanup();
      throw e;
    }
  }

  /** Every gateway: up (head, backlog, refusals) or down. */
  status(): Promise<GatewayStatus[]> {
    return Promise.all(this.gateways.map((g) => g.status()));
  }

  async stop(): Promise<void> {
    await this.fleet.stop();
    await this.qemuDevice?.close();
    await Promise.all(this.gateways.map((g) => g.stop()));
    await this.serialLine?.close();
    this.unlock();
  }
}

/**
 * What the boards are provisioned with (docs/firmware-update.md): the network's publisher key, and
 * this build's firmware.wasm as version 1, signed by it. A board keeps what its flash holds once
 * provisioned: after a firmware rebuild, `npm start -- --fresh` re-provisions (or roll the new build
 * out: mote firmware sign|release|rollout). Networks made before publishers existed have none.
 */
function factoryFirmware(netDir: string): BoardOptions["updates"] {
  const keyPath = join(netDir, "publisher.key.json");
  if (!existsSync(keyPath)) return undefined;
  const publisher = readKeyFile(keyPath);
  const image = new Uint8Array(readFileSync(defaultFirmwarePath));
  const manifest = signManifest(publisher.seed, { version: 1, imageBytes: image.length, imageDigest: sha256(image), abiVersion: HOST_ABI_VERSION, versionText: "factory" });
  return { publisherKey: publisher.publicKey, manifest };
}

async function bootBoards(o: DevnetOptions, gateways: GatewayProcess[], serialPath: string | undefined, updates: BoardOptions["updates"]): Promise<FleetMember[]> {
  const members: FleetMember[] = [];
  for (let k = 0; k < o.devices; k++) {
    const g = gateways[k % gateways.length];
    const board = await Board.boot({ dataDir: join(o.dir, "devices", `udp-${k + 1}`), link: { kind: "udp", host: "127.0.0.1", port: g.spec.udpPort }, updates });
    members.push({ board, sensor: k % 6, label: `mote-${String(k + 1).padStart(2, "0")}` });
  }
  if (serialPath) {
    const board = await Board.boot({ dataDir: join(o.dir, "devices", "serial-1"), link: { kind: "serial", path: serialPath }, updates });
    members.push({ board, sensor: 0, label: "mote-serial" });
  }
  return members;
}

/** socat's pty pair: the board on one end, gateway 1's serial port on the other. */
async function openSerialLine(progress: (line: string) => void): Promise<PtyPair | undefined> {
  if (socatAvailable()) return openPtyPair();
  progress("      no serial device: socat is not installed (apt-get install socat)");
  return undefined;
}
