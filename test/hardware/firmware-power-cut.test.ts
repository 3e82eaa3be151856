// Power cuts at random points of a firmware transfer and of the install and switch (SIGKILL of the
// board's process), each followed by a start: always a verified image, the same device, and no
// sequence number used twice. 25 cuts here; `npm run bench:ota` runs 1,000.
import { describe, expect, it } from "vitest";
import { socatAvailable } from "../../hardware/emulator/pty-pair.ts";
import { runPowerCuts } from "../support/ota-power-cuts.ts";

describe.skipIf(!socatAvailable())("power cuts during a firmware update", () => {
  it("always start a verified image as the same device with fresh sequence numbers", async () => {
    const r = await runPowerCuts(25, 0x0a7a);
    expect(r.failures).toEqual([]);
    expect(r.cuts).toBe(25);
    expect(r.duringTransfer).toBeGreaterThan(0);
    expect(r.duringSwitch).toBeGreaterThan(0);
    expect(r.startedOld + r.startedNew).toBe(25);
  }, 240_000);
});
