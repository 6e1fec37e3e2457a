// The one hash of the format: lowercase hex sha256 (file hashes, `prev`, trailers, published-file records).
import { createHash } from "node:crypto";

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}
