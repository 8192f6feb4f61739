export * from "./official-schema.js";
export * from "./run-cli.js";
