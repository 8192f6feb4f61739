/**
 * Overwrite's atomic swap: one commit on the target removes every live file and adds the temp
 * table's files (hard-linked / server-side copied into the target's folder first), with the union
 * schema (columns are never dropped). Until that commit the target is untouched; afterwards the temp
 * table is deleted. A crash in between leaves both (a same-generation retry redoes the swap).
 */
import { type Action, removeFileAction } from "../log/actions.js";
import { mergeProtocol, sameProtocol } from "../log/protocol.js";
import { requiredProtocol, schemaToString } from "../log/schema.js";
import type { ObjectStore } from "../store/types.js";
import { type DeltaTable, fileRelPath } from "../table/delta-table.js";

/** `parent` holds both tables at `targetDir` and `tempDir`. */
export async function swapInTemp(
  parent: ObjectStore,
  target: DeltaTable,
  targetDir: string,
  temp: DeltaTable,
  tempDir: string,
): Promise<number | null> {
  const tempSnap = await temp.snapshot();
  if (!tempSnap) return null;
  for (const add of tempSnap.files.values()) {
    const rel = fileRelPath(add.path);
    await parent.copy(`${tempDir}/${rel}`, `${targetDir}/${rel}`);
  }
  const cur = await target.snapshot();
  if (!cur) {
    // No target yet: create it with the temp's protocol/metadata and files in one commit.
    await target.ensureSchema(tempSnap.fields);
  }
  const res = await target.commit(
    async (snap) => {
      const now = Date.now();
      const actions: Action[] = [];
      const have = new Set(snap.fields.map((f) => f.name.toLowerCase()));
      const fields = [
        ...snap.fields,
        ...tempSnap.fields.filter((f) => !have.has(f.name.toLowerCase())).map((f) => ({ ...f, nullable: true })),
      ];
      const proto = mergeProtocol(snap.protocol, requiredProtocol(fields));
      if (!sameProtocol(proto, snap.protocol)) actions.push({ protocol: proto });
      if (fields.length !== snap.fields.length)
        actions.push({ metaData: { ...snap.metadata, schemaString: schemaToString(fields) } });
      for (const old of snap.files.values()) {
        if (tempSnap.files.has(old.path)) continue;
        actions.push(removeFileAction(old, now));
      }
      for (const add of tempSnap.files.values()) {
        if (snap.files.has(add.path)) continue;
        actions.push({ add: { ...add, modificationTime: now, dataChange: true } });
      }
      return { actions, readsData: true };
    },
    { operation: "WRITE", parameters: { mode: "Overwrite", source: tempDir } },
  );
  await parent.deletePrefix(tempDir);
  return res?.version ?? null;
}
