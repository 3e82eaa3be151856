// npm start's banner (issue 14: it did not say where the CoAP ports or the serial device's pty
// are): every gateway's CoAP port, each serial line's two ends, and a device command that works.
import { describe, expect, it } from "vitest";
import { startBanner } from "../../scripts/start-banner.ts";
import { parseHostPort } from "../../gateway/cli/args.ts";

const gateways = [1, 2, 3, 4].map((i) => ({ index: i, apiUrl: `http://127.0.0.1:${8079 + i}`, udpPort: 5700 + i, serialPaths: i === 1 ? ["/dev/pts/7", "/dev/pts/9"] : [] }));

describe("npm start banner", () => {
  it("lists the dashboard, the API, every gateway's CoAP port and each serial device's pty", () => {
    const text = startBanner({
      dir: ".moteledger",
      gateways,
      serialDevices: [
        { label: "mote-serial", devicePath: "/dev/pts/6", gatewayPath: "/dev/pts/7" },
        { label: "mote-mps2-an385 (qemu)", devicePath: "/dev/pts/8", gatewayPath: "/dev/pts/9" },
      ],
    });
    expect(text).toContain("  dashboard  http://127.0.0.1:8080/dashboard/\n");
    expect(text).toContain("  CoAP       over UDP, gateway 1: 127.0.0.1:5701  2: 127.0.0.1:5702  3: 127.0.0.1:5703  4: 127.0.0.1:5704\n");
    expect(text).toContain("  serial     mote-serial writes /dev/pts/6, gateway 1 reads /dev/pts/7\n");
    expect(text).toContain("             mote-mps2-an385 (qemu) writes /dev/pts/8, gateway 1 reads /dev/pts/9\n");
    // The device command it suggests is one `mote device run` accepts.
    const run = /npx mote device run --flash \S+ --create --gateway (\S+)/.exec(text);
    expect(parseHostPort(run![1])).toEqual({ host: "127.0.0.1", port: 5701 });
  });

  it("without serial lines says nothing about them", () => {
    const text = startBanner({ dir: "d", gateways: gateways.slice(0, 1).map((g) => ({ ...g, serialPaths: [] })), serialDevices: [] });
    expect(text).not.toContain("serial");
    expect(text).toContain("CoAP       over UDP, gateway 1: 127.0.0.1:5701\n");
  });
});
