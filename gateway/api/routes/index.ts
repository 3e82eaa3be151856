// Every documented route of the API, in the order the OpenAPI document lists them.
import type { ApiContext } from "../context.ts";
import type { RouteSpec } from "../route-spec.ts";
import { chainRoutes } from "./chain.ts";
import { contractRoutes } from "./contracts.ts";
import { deviceRoutes } from "./devices.ts";
import { epochRoutes } from "./epochs.ts";
import { firmwareRoutes } from "./firmware.ts";
import { payloadRoutes } from "./payloads.ts";
import { snapshotRoutes } from "./snapshot.ts";
import { sqlRoutes } from "./sql.ts";
import { systemRoutes } from "./system.ts";
import { txRoutes } from "./txs.ts";
import { validatorRoutes } from "./validators.ts";

export function apiRoutes(ctx: ApiContext, openapi: () => object): RouteSpec[] {
  return [...chainRoutes(ctx), ...txRoutes(ctx), ...validatorRoutes(ctx), ...epochRoutes(ctx), ...deviceRoutes(ctx), ...contractRoutes(ctx), ...firmwareRoutes(ctx), ...payloadRoutes(ctx), ...sqlRoutes(ctx), ...systemRoutes(ctx, openapi), ...snapshotRoutes(ctx)];
}
