/** Reading one changefeed object: a data file decoded into changes, a RESOLVED file's content checked. */
import { compareHlc, configError, formatHlc, type Hlc, tryParseHlc } from "@cdc-delta/shared";
import { decompressStream } from "../decode/compression.js";
import { readJsonLines, type RawChange } from "../decode/json.js";
import { readParquet } from "../decode/parquet.js";
import { classify, type DataFile, type ResolvedFile } from "../layout/names.js";
import { RESET_PROCEDURE } from "../state.js";
import type { ObjectStore } from "../storage/types.js";
import type { StreamRun } from "./stream-run.js";

export async function newestResolved(store: ObjectStore, startAfter: string | undefined): Promise<Hlc | undefined> {
  let newest: Hlc | undefined;
  for await (const o of store.list({ startAfter })) {
    const c = classify(o.key, o.size);
    if (c.kind === "resolved" && (!newest || compareHlc(c.ts, newest) > 0)) newest = c.ts;
  }
  return newest;
}

export async function checkResolvedContent(store: ObjectStore, rf: ResolvedFile): Promise<void> {
  const info = await store.stat(rf.key);
  if (!info || info.size > 4096) return;
  const stream = await store.read(rf.key);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  if (buf.subarray(0, 4).toString("latin1") === "PAR1") return;
  const text = buf.toString("utf8").trim();
  if (!text.startsWith("{")) throw configError(`RESOLVED file ${rf.key} has bad content (neither JSON nor Parquet)`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw configError(`RESOLVED file ${rf.key} has bad content: not valid JSON`);
  }
  const o = v as Record<string, unknown>;
  const resolved = (o.resolved ?? (o.__crdb__ as Record<string, unknown> | undefined)?.resolved) as unknown;
  const h = tryParseHlc(resolved);
  if (!h) throw configError(`RESOLVED file ${rf.key} has bad content: no "resolved" HLC`);
  if (compareHlc(h, rf.ts) !== 0)
    throw configError(
      `RESOLVED file ${rf.key}: content ${String(resolved)} differs from its name's timestamp ${formatHlc(rf.ts)}`,
    );
}

export async function* decodeFile(
  store: ObjectStore,
  key: string,
  file: DataFile,
  run: StreamRun,
  pendingFile: boolean,
  onBytes: (n: number) => void,
): AsyncGenerator<RawChange[]> {
  let stream: import("node:stream").Readable;
  try {
    stream = await store.read(key);
  } catch (e) {
    if (pendingFile) {
      throw configError(
        `pending file ${key} vanished from ${store.description} before it was re-read (retention?); rows newer than the watermark would be lost. ${RESET_PROCEDURE}`,
        { cause: e },
      );
    }
    throw e;
  }
  let bytes = 0;
  stream.on("data", (c: Buffer) => {
    bytes += c.length;
  });
  if (file.format === "csv")
    throw configError(
      `${key}: CSV changefeed files cannot carry RESOLVED timestamps and are not supported; use format=json or parquet`,
    );
  if (file.format === "parquet") {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    onBytes(buf.length);
    yield* readParquet(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), key, {
      primaryKey: run.shape.pk,
      columnTypes: run.columnTypes,
    });
    return;
  }
  yield* readJsonLines(decompressStream(stream, file.codec), key);
  onBytes(bytes);
}
