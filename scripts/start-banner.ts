// What `npm start` prints once the network is up: where the dashboard, the API, each gateway's
// CoAP port and the serial lines are, and the commands that use them. A pure function of the
// running network's addresses, so it is tested without starting one.

export interface BannerGateway {
  index: number;
  apiUrl: string;
  /** CoAP over UDP on 127.0.0.1. */
  udpPort: number;
  /** Serial ports (ptys) the gateway reads SLIP-framed CoAP from. */
  serialPaths: string[];
}

export interface BannerSerialDevice {
  label: string;
  /** The device's end of the line: the pty it writes to. */
  devicePath: string;
  /** The gateway's end. */
  gatewayPath: string;
}

export interface BannerInput {
  gateways: BannerGateway[];
  serialDevices: BannerSerialDevice[];
  dir: string;
}

export function startBanner(n: BannerInput): string {
  const first = n.gateways[0];
  const coap = n.gateways.map((g) => `${g.index}: 127.0.0.1:${g.udpPort}`).join("  ");
  const serialLines = n.serialDevices.map((d) => {
    const g = n.gateways.find((x) => x.serialPaths.includes(d.gatewayPath));
    return `${d.label} writes ${d.devicePath}, gateway ${g?.index ?? "?"} reads ${d.gatewayPath}`;
  });
  const lines = [
    ["dashboard", `${first.apiUrl}/dashboard/`],
    ["API", `${n.gateways.map((g) => g.apiUrl).join("  ")}   (OpenAPI: ${first.apiUrl}/openapi.json)`],
    ["CoAP", `over UDP, gateway ${coap}`],
    ...serialLines.map((l, i) => [i === 0 ? "serial" : "", l]),
    ["device", `npx mote device run --flash ${n.dir}/my-device --create --gateway 127.0.0.1:${first.udpPort}   (then enroll it: npx mote device enroll <public key> --key ${n.dir}/net/owner.key.json --api ${first.apiUrl})`],
    ["CLI", `npx mote status --api ${first.apiUrl}`],
    ["data", `${n.dir}   (gateway logs: ${n.dir}/gateway-*.log)`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  return `\n${lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n")}\n  Ctrl-C to stop\n`;
}
