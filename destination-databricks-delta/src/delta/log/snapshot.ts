/**
 * Log replay: the state of a table at its latest version, from the newest classic checkpoint
 * (`_last_checkpoint`, else the highest `n.checkpoint.parquet` / multi-part set found by listing)
 * plus every later JSON commit in order. `refresh` applies only commits newer than a snapshot.
 */
import type { ObjectStore } from "../store/types.js";
import {
  type Action,
  type AddAction,
  type MetadataAction,
  type ProtocolAction,
  commitFileName,
  parseActions,
} from "./actions.js";
import { readCheckpoint } from "./checkpoint-read.js";
import { type DeltaField, parseSchemaString } from "./schema.js";

export const LOG_DIR = "_delta_log";

export interface Snapshot {
  version: number;
  protocol: ProtocolAction;
  metadata: MetadataAction;
  fields: DeltaField[];
  /** Live data files by (decoded-as-stored) path. */
  files: Map<string, AddAction>;
  txns: Map<string, number>;
  /** Version of the checkpoint this replay started from (-1: none). */
  checkpointVersion: number;
}

export class CorruptTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorruptTableError";
  }
}

const COMMIT_RE = /^(\d{20})\.json$/;
const CHECKPOINT_RE = /^(\d{20})\.checkpoint(?:\.(\d{10})\.(\d{10}))?\.parquet$/;

interface MutableState {
  protocol: ProtocolAction | null;
  metadata: MetadataAction | null;
  files: Map<string, AddAction>;
  txns: Map<string, number>;
}

export function applyActions(state: MutableState, actions: readonly Action[]): void {
  for (const a of actions) {
    if ("add" in a) state.files.set(a.add.path, a.add);
    else if ("remove" in a) state.files.delete(a.remove.path);
    else if ("metaData" in a) state.metadata = a.metaData;
    else if ("protocol" in a) state.protocol = a.protocol;
    else if ("txn" in a) state.txns.set(a.txn.appId, a.txn.version);
  }
}

function finish(state: MutableState, version: number, checkpointVersion: number, where: string): Snapshot {
  if (!state.protocol) throw new CorruptTableError(`${where}: no protocol action up to version ${version}`);
  if (!state.metadata) throw new CorruptTableError(`${where}: no metaData action up to version ${version}`);
  return {
    version,
    protocol: state.protocol,
    metadata: state.metadata,
    fields: parseSchemaString(state.metadata.schemaString),
    files: state.files,
    txns: state.txns,
    checkpointVersion,
  };
}

async function readCommit(store: ObjectStore, version: number): Promise<Action[] | null> {
  const bytes = await store.read(`${LOG_DIR}/${commitFileName(version)}`);
  if (!bytes) return null;
  return parseActions(Buffer.from(bytes).toString("utf8"), `${store.location}/${LOG_DIR}/${commitFileName(version)}`);
}

interface CheckpointPointer {
  version: number;
  parts: number | null;
}

async function findCheckpoint(store: ObjectStore, names: string[]): Promise<CheckpointPointer | null> {
  const last = await store.read(`${LOG_DIR}/_last_checkpoint`);
  const complete = new Map<number, Set<number>>();
  const single = new Set<number>();
  const partsOf = new Map<number, number>();
  for (const n of names) {
    const m = CHECKPOINT_RE.exec(n);
    if (!m) continue;
    const v = Number(m[1]);
    if (m[2] === undefined) single.add(v);
    else {
      const set = complete.get(v) ?? new Set<number>();
      set.add(Number(m[2]));
      complete.set(v, set);
      partsOf.set(v, Number(m[3]));
    }
  }
  const usable = (v: number): CheckpointPointer | null => {
    if (single.has(v)) return { version: v, parts: null };
    const p = partsOf.get(v);
    if (p !== undefined && complete.get(v)?.size === p) return { version: v, parts: p };
    return null;
  };
  if (last) {
    try {
      const j = JSON.parse(Buffer.from(last).toString("utf8")) as { version: number; parts?: number };
      const hit = usable(j.version);
      if (hit) return hit;
    } catch {
      /* a torn _last_checkpoint is only a hint: fall back to listing */
    }
  }
  const versions = [...new Set([...single, ...complete.keys()])].sort((a, b) => b - a);
  for (const v of versions) {
    const hit = usable(v);
    if (hit) return hit;
  }
  return null;
}

/** Latest snapshot, or null when the table has no log (does not exist). */
export async function loadSnapshot(store: ObjectStore): Promise<Snapshot | null> {
  const names = await store.list(LOG_DIR);
  const commits = names
    .map((n) => COMMIT_RE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const cp = await findCheckpoint(store, names);
  if (commits.length === 0 && !cp) return null;
  const state: MutableState = { protocol: null, metadata: null, files: new Map(), txns: new Map() };
  let version = -1;
  if (cp) {
    const actions = await readCheckpoint(store, LOG_DIR, cp.version, cp.parts);
    applyActions(state, actions);
    version = cp.version;
  } else if (commits[0] !== 0) {
    throw new CorruptTableError(`${store.location}: log starts at version ${commits[0]} without a checkpoint`);
  }
  const latest = commits.length ? Math.max(commits[commits.length - 1]!, version) : version;
  for (let v = version + 1; v <= latest; v++) {
    const actions = await readCommit(store, v);
    if (!actions) throw new CorruptTableError(`${store.location}: commit ${v} is missing (log has a gap)`);
    applyActions(state, actions);
  }
  // A commit may have landed after listing: catch up.
  for (let v = latest + 1; ; v++) {
    const actions = await readCommit(store, v);
    if (!actions) {
      return finish(state, v - 1, cp?.version ?? -1, store.location);
    }
    applyActions(state, actions);
  }
}

/** The snapshot advanced by every commit after it; also returns those commits' actions (for conflict checks). */
export async function refreshSnapshot(
  store: ObjectStore,
  snap: Snapshot,
): Promise<{ snapshot: Snapshot; newCommits: Action[][] }> {
  const state: MutableState = {
    protocol: snap.protocol,
    metadata: snap.metadata,
    files: new Map(snap.files),
    txns: new Map(snap.txns),
  };
  const newCommits: Action[][] = [];
  let v = snap.version + 1;
  for (;;) {
    const actions = await readCommit(store, v);
    if (!actions) break;
    applyActions(state, actions);
    newCommits.push(actions);
    v++;
  }
  if (newCommits.length === 0) return { snapshot: snap, newCommits };
  return { snapshot: finish(state, v - 1, snap.checkpointVersion, store.location), newCommits };
}
