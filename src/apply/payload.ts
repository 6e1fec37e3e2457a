// Normalizes a row or link payload to the config: only synced keys, in the config's order, defaults
// filled, `deleted` following the op. Every replica stores the same text for the same change. Pure.
import type { Payload, PayloadValue } from "../changeset/format.js";
import type { Entity } from "../config/schema.js";

export function normalizePayload(
  entity: Entity,
  payload: Readonly<Record<string, PayloadValue | undefined>>,
  fallback: { ts: string; version: number; client: string; flag: 0 | 1 },
): Payload {
  const out: Payload = {};
  if (entity.kind === "link") {
    out[entity.left.wireKey] = payload[entity.left.wireKey] ?? null;
    out[entity.right.wireKey] = payload[entity.right.wireKey] ?? null;
    return out;
  }
  for (const key of entity.payloadKeys) {
    let v = Object.hasOwn(payload, key) ? payload[key] : undefined;
    if (v === undefined) {
      if (key === "last_modified") v = fallback.ts;
      else if (key === "version") v = fallback.version;
      else if (key === "client_id") v = fallback.client;
      else if (key === "deleted") v = fallback.flag;
      else v = entity.defaults[key] ?? null;
    }
    out[key] = v;
  }
  out.deleted = fallback.flag;
  return out;
}
