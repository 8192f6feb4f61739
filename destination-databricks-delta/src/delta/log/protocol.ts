/**
 * Which tables the embedded writer may read and write. Refuses what it cannot honour: deletion
 * vectors, column mapping, change data feed, catalog-managed tables, unknown features.
 */
import type { MetadataAction, ProtocolAction } from "./actions.js";

/** Table features whose semantics this writer implements (or which need nothing from a writer). */
const SUPPORTED_READER = new Set(["timestampNtz", "vacuumProtocolCheck"]);
const SUPPORTED_WRITER = new Set(["timestampNtz", "appendOnly", "invariants", "vacuumProtocolCheck", "domainMetadata"]);

export class UnsupportedTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedTableError";
  }
}

export function assertSupported(protocol: ProtocolAction, metadata: MetadataAction | null, table: string): void {
  const { minReaderVersion: r, minWriterVersion: w } = protocol;
  if (r > 3) throw new UnsupportedTableError(`${table}: reader version ${r} is not supported`);
  if (w > 7) throw new UnsupportedTableError(`${table}: writer version ${w} is not supported`);
  if (r === 2) throw new UnsupportedTableError(`${table}: reader version 2 (column mapping) is not supported`);
  if (w >= 3 && w < 7) {
    // Legacy writer versions imply features: 3 = CHECK constraints, 4 = CDF + generated columns, 5 = column mapping, 6 = identity columns.
    if (w >= 4)
      throw new UnsupportedTableError(
        `${table}: writer version ${w} (CDF / generated / column mapping / identity) is not supported`,
      );
  }
  for (const f of protocol.readerFeatures ?? []) {
    if (!SUPPORTED_READER.has(f))
      throw new UnsupportedTableError(`${table}: reader feature ${f} is not supported (deletion vectors, column mapping …)`);
  }
  for (const f of protocol.writerFeatures ?? []) {
    if (!SUPPORTED_WRITER.has(f)) throw new UnsupportedTableError(`${table}: writer feature ${f} is not supported`);
  }
  const conf = metadata?.configuration ?? {};
  if (conf["delta.enableChangeDataFeed"] === "true")
    throw new UnsupportedTableError(`${table}: change data feed is enabled; not supported`);
  if ((conf["delta.columnMapping.mode"] ?? "none") !== "none")
    throw new UnsupportedTableError(`${table}: column mapping is enabled; not supported`);
  if (conf["delta.appendOnly"] === "true") throw new UnsupportedTableError(`${table}: table is append-only`);
  if (w >= 3 && w < 4 && Object.keys(conf).some((k) => k.startsWith("delta.constraints."))) {
    throw new UnsupportedTableError(`${table}: CHECK constraints are not enforced by this writer`);
  }
}

/** A protocol that satisfies both (upgrade only, never downgrade). */
export function mergeProtocol(current: ProtocolAction, required: ProtocolAction): ProtocolAction {
  const r = Math.max(current.minReaderVersion, required.minReaderVersion);
  const w = Math.max(current.minWriterVersion, required.minWriterVersion);
  const out: ProtocolAction = { minReaderVersion: r, minWriterVersion: w };
  if (r >= 3) out.readerFeatures = [...new Set([...(current.readerFeatures ?? []), ...(required.readerFeatures ?? [])])];
  if (w >= 7) {
    const implied = current.minWriterVersion < 7 ? impliedWriterFeatures(current.minWriterVersion) : [];
    out.writerFeatures = [...new Set([...implied, ...(current.writerFeatures ?? []), ...(required.writerFeatures ?? [])])];
  }
  return out;
}

function impliedWriterFeatures(w: number): string[] {
  const f: string[] = [];
  if (w >= 2) f.push("appendOnly", "invariants");
  return f;
}

export function sameProtocol(a: ProtocolAction, b: ProtocolAction): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}
function normalize(p: ProtocolAction) {
  return [p.minReaderVersion, p.minWriterVersion, [...(p.readerFeatures ?? [])].sort(), [...(p.writerFeatures ?? [])].sort()];
}
