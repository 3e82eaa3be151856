// `mote firmware release|rollout|stop|status`: the chain's side of over-the-air updates, through a
// gateway's API (gateway/chain/README.md "Firmware releases and rollouts"). The transaction codec and key files load inside the
// commands (tx-author.ts), so `mote --help` stays light.
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { fromHex } from "../../shared/ed25519.ts";
import { decodeManifest, isImageId } from "../../shared/firmware-manifest.ts";
import type { RolloutSelector } from "../../shared/tx.ts";
import { ApiClient } from "./api-client.ts";
import { apiOption } from "./chain-commands.ts";
import { CliError, UsageError } from "./errors.ts";
import { printFields, printJson, printTable } from "./output.ts";
import { submitTx, waitFinalized } from "./tx-author.ts";

/** A file's bytes, or CliError FILE_READ naming what it was meant to be. */
export function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new CliError("FILE_READ", `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** Targets of a rollout: explicit ids, or the devices the API lists for an owner or a metadata pair. */
async function resolveTargets(api: ApiClient, o: { device?: string[]; owner?: string; meta?: string }): Promise<{ selector: RolloutSelector; targets: Uint8Array[] }> {
  const given = [o.device?.length ? 1 : 0, o.owner ? 1 : 0, o.meta ? 1 : 0].reduce((a, b) => a + b, 0);
  if (given !== 1) throw new UsageError("USAGE", "give exactly one of --device <id...>, --owner <account id>, --meta <key=value>");
  if (o.device?.length) {
    for (const d of o.device) if (!/^[0-9a-f]{32}$/.test(d)) throw new UsageError("USAGE", `${d} is not a device id: give its 32 hex digits`);
    return { selector: { kind: "ids" }, targets: [...new Set(o.device)].sort().map(fromHex) };
  }
  let selector: RolloutSelector;
  if (o.owner) {
    if (!/^[0-9a-f]{32}$/.test(o.owner)) throw new UsageError("USAGE", `--owner ${o.owner} is not an account id (32 hex digits)`);
    selector = { kind: "owner", ownerId: fromHex(o.owner) };
  } else {
    const i = o.meta!.indexOf("=");
    if (i < 1) throw new UsageError("USAGE", `--meta must be key=value, got "${o.meta}"`);
    selector = { kind: "metadata", key: o.meta!.slice(0, i), value: o.meta!.slice(i + 1) };
  }
  const ids: string[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: { items: { id: string; owner: string; status: string; metadata: Record<string, string> }[]; next: string | null } = await api.get(`v1/devices?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    for (const d of page.items) {
      if (d.status !== "active") continue;
      if (selector.kind === "owner" ? d.owner === o.owner : d.metadata[selector.key] === selector.value) ids.push(d.id);
    }
    if (!page.next) break;
    cursor = page.next;
  }
  return { selector, targets: ids.sort().map(fromHex) };
}

export function registerFirmwareChainCommands(fw: Command): void {
  fw.command("release <manifest>")
    .description("publish a release: upload the image to this gateway (its API then serves it to the others) and put the manifest on chain")
    .requiredOption("--key <file>", "the account paying for the transaction")
    .option("--image <file>", "firmware.wasm, uploaded to the gateway (--location instead when it is served elsewhere)")
    .option("--location <url>", "where gateways fetch the image (http(s))")
    .option(...apiOption)
    .option("--no-wait", "return once the gateway accepted the transaction")
    .action(async (file: string, o: { key: string; image?: string; location?: string; api: string; wait: boolean }) => {
      if (!o.image === !o.location) throw new UsageError("USAGE", "give --image <firmware.wasm> (uploaded to this gateway) or --location <url>, one of them");
      const manifest = readFile(file, "manifest");
      const api = new ApiClient(o.api);
      let location = o.location!;
      if (o.image) {
        const up: { path: string } = await api.post("v1/firmware/images", { manifest: Buffer.from(manifest).toString("base64"), image: Buffer.from(readFile(o.image, "image")).toString("base64") });
        location = new URL(up.path, o.api).href;
      }
      const sent = await submitTx(api, o.key, { kind: "publishRelease", manifest, location });
      printFields({ "image id": decodeManifest(manifest).imageId, location, tx: sent.id });
      if (o.wait) console.log(`finalized in block ${await waitFinalized(api, sent.id)}`);
    });

  fw.command("rollout <image-id>")
    .description("roll a release out to your devices: by id, by owner (you) or by metadata; --in-flight at a time")
    .requiredOption("--key <file>", "the devices' owner (only the owner may roll out to a device)")
    .option("--device <id...>", "device ids")
    .option("--owner <account id>", "every active device of this owner (must be the --key account)")
    .option("--meta <key=value>", "every active device with this metadata")
    .option("--in-flight <n>", "devices offered the update at a time", (s) => Number(s), 5)
    .option(...apiOption)
    .option("--no-wait", "return once the gateway accepted the transaction")
    .action(async (imageId: string, o: { key: string; device?: string[]; owner?: string; meta?: string; inFlight: number; api: string; wait: boolean }) => {
      if (!isImageId(imageId)) throw new UsageError("USAGE", `${imageId} is not an image id (16 hex digits, see mote firmware show)`);
      if (!Number.isInteger(o.inFlight) || o.inFlight < 1 || o.inFlight > 1024) throw new UsageError("USAGE", "--in-flight must be 1..1024");
      const api = new ApiClient(o.api);
      const { selector, targets } = await resolveTargets(api, o);
      if (targets.length === 0) throw new CliError("NO_TARGETS", "no active device matches; check mote device list");
      const sent = await submitTx(api, o.key, { kind: "startRollout", imageId: fromHex(imageId), selector, targets, inFlightMax: o.inFlight });
      printFields({ "image id": imageId, targets: targets.length, "in flight": o.inFlight, tx: sent.id });
      if (o.wait) console.log(`finalized in block ${await waitFinalized(api, sent.id)}`);
    });

  fw.command("stop <rollout>")
    .description("stop a rollout: gateways offer its release no more (its progress stays on record)")
    .requiredOption("--key <file>", "the rollout's author")
    .option(...apiOption)
    .option("--no-wait", "return once the gateway accepted the transaction")
    .action(async (n: string, o: { key: string; api: string; wait: boolean }) => {
      if (!/^[1-9]\d*$/.test(n)) throw new UsageError("USAGE", `${n} is not a rollout number`);
      const api = new ApiClient(o.api);
      const sent = await submitTx(api, o.key, { kind: "stopRollout", rollout: Number(n) });
      if (o.wait) console.log(`finalized in block ${await waitFinalized(api, sent.id)}`);
      else console.log(`tx ${sent.id}`);
    });

  fw.command("status [rollout]")
    .description("releases, rollouts with progress and the fleet by version; with a rollout number, each of its targets")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (n: string | undefined, o: { api: string; json?: boolean }) => {
      const api = new ApiClient(o.api);
      if (n !== undefined) {
        const r = await api.get(`v1/firmware/rollouts/${encodeURIComponent(n)}`);
        if (o.json) return printJson(r);
        printFields({ rollout: r.number, "image id": r.imageId, version: r.version, running: r.running, ...r.counts });
        printTable(["device", "status", "version", "reason"], r.targetList.map((t: { deviceId: string; status: string; version: number; reason: string | null }) => [t.deviceId, t.status, t.version, t.reason]));
        return;
      }
      const [releases, rollouts, fleet] = await Promise.all([api.get("v1/firmware/releases"), api.get("v1/firmware/rollouts"), api.get("v1/firmware/fleet")]);
      if (o.json) return printJson({ releases: releases.items, rollouts: rollouts.items, fleet: fleet.versions });
      console.log("releases");
      printTable(["image id", "version", "text", "bytes", "height"], releases.items.map((r: { imageId: string; version: number; versionText: string | null; imageBytes: number; height: number }) => [r.imageId, r.version, r.versionText, r.imageBytes, r.height]));
      console.log("\nrollouts");
      printTable(
        ["#", "image id", "version", "running", "targets", "updated", "failed", "offered", "waiting"],
        rollouts.items.map((r: { number: number; imageId: string; version: number; running: boolean; targets: number; counts: Record<string, number> }) => [r.number, r.imageId, r.version, r.running ? "yes" : "no", r.targets, r.counts.updated, r.counts.failed, r.counts.offered, r.counts.waiting]),
      );
      console.log("\nfleet");
      printTable(["version", "devices"], fleet.versions.map((v: { version: number; devices: number }) => [v.version === 0 ? "0 (not reported)" : v.version, v.devices]));
    });
}
