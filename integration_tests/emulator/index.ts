/** Public API of the changefeed emulator and truth model (docs/emulator.md). */
export { generateChangefeed, resolveOptions, DEFAULT_OPTIONS, type EmulatorOptions, type Summary } from "./generate.js";
export {
  readTruth,
  readTruthAt,
  loadManifest,
  keyId,
  type TruthRow,
  type TruthState,
  type TruthWindow,
  type Manifest,
  type ManifestTable,
  type ManifestColumn,
} from "./truth.js";
export { type ObjectSink, LocalSink, NullSink, AzureSink, parseAzureUrl, sinkFor } from "./sink.js";
export { renderJsonLine } from "./emitter.js";
