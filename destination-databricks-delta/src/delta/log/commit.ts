/**
 * Committing a version: actions -> NDJSON -> `store.putIfAbsent(_delta_log/%020d.json)` (the atomic
 * step; see store/local.ts and store/azure.ts). A lost race (the name exists) reloads the log and
 * checks the winners: if they touched nothing this transaction depends on (no metadata/protocol
 * change, no removal of a file we remove, no data change when we read data), the same actions are
 * retried at the next version; otherwise the whole operation is recomputed against the new snapshot.
 */
import type { ObjectStore } from "../store/types.js";
import { type Action, ENGINE_INFO, commitFileName, serializeActions } from "./actions.js";
import { assertSupported } from "./protocol.js";
import { LOG_DIR, type Snapshot, loadSnapshot, refreshSnapshot } from "./snapshot.js";

export class CommitConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommitConflictError";
  }
}

export interface Prepared {
  actions: Action[];
  /** True when the actions were computed from table data (merge/rewrite): any concurrent data change invalidates them. */
  readsData: boolean;
  /** Called when the prepared actions are abandoned (delete orphaned data files). */
  abandon?: () => Promise<void>;
}

export interface CommitResult {
  version: number;
  snapshot: Snapshot | null;
}

function conflicts(mine: Action[], readsData: boolean, winners: Action[][]): string | null {
  const myRemoves = new Set<string>();
  for (const a of mine) if ("remove" in a) myRemoves.add(a.remove.path);
  for (const commit of winners) {
    for (const a of commit) {
      if ("metaData" in a) return "the table's metadata changed";
      if ("protocol" in a) return "the table's protocol changed";
      if ("remove" in a && myRemoves.has(a.remove.path)) return `file ${a.remove.path} was removed concurrently`;
      if (readsData && (("add" in a && a.add.dataChange) || ("remove" in a && a.remove.dataChange)))
        return "data changed concurrently";
    }
  }
  return null;
}

/**
 * Run `prepare` against the latest snapshot and commit its actions as the next version, retrying
 * lost races (`maxAttempts` recomputations). `prepare` returning null = nothing to commit.
 */
export async function commitTransaction(
  store: ObjectStore,
  start: Snapshot | null,
  prepare: (snap: Snapshot | null) => Promise<Prepared | null>,
  opts: { operation: string; parameters?: Record<string, string>; batchId?: string; maxAttempts?: number },
): Promise<CommitResult | null> {
  let snap = start;
  const maxAttempts = opts.maxAttempts ?? 20;
  let prepared: Prepared | null = null;
  for (let attempt = 1; ; attempt++) {
    if (!prepared) {
      if (snap) assertSupported(snap.protocol, snap.metadata, store.location);
      prepared = await prepare(snap);
      if (!prepared) return null;
    }
    const version = snap ? snap.version + 1 : 0;
    const commitInfo: Action = {
      commitInfo: {
        timestamp: Date.now(),
        operation: opts.operation,
        operationParameters: opts.parameters ?? {},
        engineInfo: ENGINE_INFO,
        ...(opts.batchId ? { batchId: opts.batchId } : {}),
        ...(snap ? { readVersion: snap.version } : {}),
        isBlindAppend: !prepared.readsData && !prepared.actions.some((a) => "remove" in a),
      },
    };
    const body = Buffer.from(serializeActions([commitInfo, ...prepared.actions]), "utf8");
    const won = await store.putIfAbsent(`${LOG_DIR}/${commitFileName(version)}`, body);
    if (won) {
      return { version, snapshot: null };
    }
    if (attempt >= maxAttempts) {
      await prepared.abandon?.();
      throw new CommitConflictError(`${store.location}: version ${version} lost ${attempt} races; giving up`);
    }
    // Lost the race: bring the snapshot up to date and decide whether the actions still hold.
    let winners: Action[][] | null;
    if (snap) {
      const r = await refreshSnapshot(store, snap);
      winners = r.newCommits;
      snap = r.snapshot;
    } else {
      // We tried to create the table and someone else did: everything must be recomputed.
      snap = await loadSnapshot(store);
      winners = null;
    }
    const why = winners === null ? "table created concurrently" : conflicts(prepared.actions, prepared.readsData, winners);
    if (why) {
      await prepared.abandon?.();
      prepared = null;
    }
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 20 * 2 ** attempt)));
  }
}
