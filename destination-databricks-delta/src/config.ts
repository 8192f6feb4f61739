/**
 * The one config schema of the destination. Every field but `target` has a default; the smallest
 * valid config is `{"target": {"type": "local", "path": "<dir>"}}`. The Airbyte spec is generated
 * from it (shared/src/config/spec.ts).
 */
import { z } from "zod";

const MiB = 1024 * 1024;

export const localTargetSchema = z
  .object({
    type: z.literal("local").meta({ order: 0 }),
    path: z
      .string()
      .min(1)
      .meta({
        title: "Folder",
        description: "Local folder holding one Delta table per stream at <folder>/<namespace or default>/<stream>.",
        examples: ["/data/delta"],
        order: 1,
      }),
  })
  .meta({ title: "Local folder (embedded Delta writer)" });

const azureAuthSchema = z
  .discriminatedUnion("type", [
    z
      .object({
        type: z.literal("account_key").meta({ order: 0 }),
        account_key: z.string().min(1).meta({ title: "Account key", airbyte_secret: true, order: 1 }),
      })
      .meta({ title: "Account key" }),
    z
      .object({
        type: z.literal("sas").meta({ order: 0 }),
        sas_token: z.string().min(1).meta({
          title: "SAS token",
          description:
            "Shared access signature with read/write/list/delete on the container (query string without the leading ?).",
          airbyte_secret: true,
          order: 1,
        }),
      })
      .meta({ title: "Shared access signature" }),
    z
      .object({
        type: z.literal("connection_string").meta({ order: 0 }),
        connection_string: z.string().min(1).meta({ title: "Connection string", airbyte_secret: true, order: 1 }),
      })
      .meta({ title: "Connection string" }),
  ])
  .meta({ title: "Authentication", order: 4 });

export const azureTargetSchema = z
  .object({
    type: z.literal("azure").meta({ order: 0 }),
    account: z
      .string()
      .default("")
      .meta({ title: "Storage account name", description: "Not needed with a connection string.", order: 1 }),
    container: z.string().min(1).meta({ title: "Container", order: 2 }),
    prefix: z
      .string()
      .default("")
      .meta({
        title: "Path prefix",
        description: "Folder inside the container for the tables.",
        examples: ["delta/shop"],
        order: 3,
      }),
    auth: azureAuthSchema,
    endpoint: z
      .string()
      .optional()
      .meta({ title: "Blob endpoint override", description: "e.g. Azurite: http://127.0.0.1:10000/devstoreaccount1", order: 5 }),
  })
  .meta({ title: "Azure Blob Storage (embedded Delta writer)" });

// ─────────────────────────────────────────────────────────────────────────────────────────────────
// databricksTargetSchema: OWNED BY THE DATABRICKS BACKEND ENGINEER (src/databricks/). Edit freely;
// keep `type: "databricks"` as the discriminator and `airbyte_secret` on credentials (the spec lint
// requires it on password/token/secret-like names and forbids it elsewhere).
// ─────────────────────────────────────────────────────────────────────────────────────────────────
const databricksAuthSchema = z
  .discriminatedUnion("type", [
    z
      .object({
        type: z.literal("pat").meta({ order: 0 }),
        token: z.string().min(1).meta({ title: "Personal access token", airbyte_secret: true, order: 1 }),
      })
      .meta({ title: "Personal access token" }),
    z
      .object({
        type: z.literal("oauth_m2m").meta({ order: 0 }),
        client_id: z.string().min(1).meta({ title: "Service principal client id", order: 1 }),
        client_secret: z.string().min(1).meta({ title: "Service principal OAuth secret", airbyte_secret: true, order: 2 }),
      })
      .meta({ title: "OAuth machine-to-machine (service principal)" }),
    z
      .object({
        type: z.literal("basic").meta({ order: 0 }),
        username: z.string().min(1).meta({ title: "User", order: 1 }),
        password: z.string().min(1).meta({ title: "Password", airbyte_secret: true, order: 2 }),
      })
      .meta({ title: "HTTP Basic (open-source Spark Thrift server only)" }),
  ])
  .meta({ title: "Authentication", order: 3 });

const databricksStagingAzureSchema = z
  .object({
    url: z.string().min(1).meta({
      title: "Read URL",
      description:
        "The same location as the engine reads it (a Unity Catalog external location), e.g. abfss://stage@acct.dfs.core.windows.net/cdc",
      order: 0,
    }),
    account: z
      .string()
      .default("")
      .meta({ title: "Storage account name", description: "Not needed with a connection string.", order: 1 }),
    container: z.string().min(1).meta({ title: "Container", order: 2 }),
    prefix: z.string().default("").meta({ title: "Path prefix", order: 3 }),
    auth: azureAuthSchema,
    endpoint: z
      .string()
      .optional()
      .meta({ title: "Blob endpoint override", description: "e.g. Azurite: http://127.0.0.1:10000/devstoreaccount1", order: 5 }),
  })
  .meta({ title: "External Azure location for staging", order: 7 });

export const databricksTargetSchema = z
  .object({
    type: z.literal("databricks").meta({ order: 0 }),
    server_hostname: z
      .string()
      .min(1)
      .meta({ title: "Server hostname", examples: ["adb-1234567890123456.7.azuredatabricks.net"], order: 1 }),
    http_path: z
      .string()
      .min(1)
      .meta({ title: "HTTP path", examples: ["/sql/1.0/warehouses/abc123"], order: 2 }),
    auth: databricksAuthSchema,
    catalog: z.string().default("main").meta({ title: "Catalog", order: 4 }),
    schema: z
      .string()
      .default("default")
      .meta({ title: "Default schema", description: "Schema of streams without a namespace.", order: 5 }),
    staging_volume_path: z.string().optional().meta({
      title: "Staging volume path",
      description:
        "Unity Catalog volume for staged parquet files, e.g. /Volumes/main/default/staging (written through the Files API).",
      order: 6,
    }),
    staging_azure: databricksStagingAzureSchema.optional(),
    table_name_mapping: z.record(z.string(), z.string()).default({}).meta({
      title: "Table name mapping",
      description: "Stream name (or namespace.stream) → table name; unmapped streams use their sanitised name.",
      order: 8,
    }),
    table_properties: z.record(z.string(), z.string()).default({}).meta({
      title: "Table properties",
      description: "Extra TBLPROPERTIES for tables this destination creates.",
      order: 9,
    }),
    statement_timeout_s: z.int().min(1).default(3600).meta({ title: "Statement timeout (s)", order: 10 }),
    connect_timeout_s: z.int().min(1).default(600).meta({ title: "Connect / warehouse start timeout (s)", order: 11 }),
    upload_timeout_s: z.int().min(1).default(300).meta({ title: "Staging upload timeout per file (s)", order: 12 }),
    max_concurrency: z.int().min(1).max(16).default(4).meta({ title: "Max concurrent statements", order: 13 }),
    port: z.int().min(1).max(65535).default(443).meta({ title: "Port", order: 14 }),
    dialect: z.enum(["databricks", "spark-oss"]).default("databricks").meta({
      title: "SQL dialect",
      description:
        "spark-oss: an open-source Spark Thrift server (tests): plain HTTP unless https, Basic auth, staging in a local folder.",
      order: 15,
    }),
    https: z.boolean().default(true).meta({ title: "HTTPS (spark-oss only; Databricks is always HTTPS)", order: 16 }),
    staging_local_path: z.string().optional().meta({ title: "Local staging folder (spark-oss only)", order: 17 }),
    custom_ca_cert: z
      .string()
      .optional()
      .meta({ title: "Extra CA certificate (PEM)", description: "For TLS-inspecting proxies.", order: 18 }),
  })
  .meta({ title: "Databricks SQL warehouse" });
// ───────────────────────────── end of databricksTargetSchema ─────────────────────────────────────

export const targetSchema = z.discriminatedUnion("type", [localTargetSchema, azureTargetSchema, databricksTargetSchema]).meta({
  title: "Target",
  description: "Where the Delta tables are written.",
  order: 0,
});

export const DestinationConfig = z.object({
  target: targetSchema,
  delete_mode: z.enum(["hard", "soft"]).default("hard").meta({
    title: "Delete mode",
    description:
      "hard: deleted rows are removed (a companion <table>__cdc_tombstones table stops replays from resurrecting them). soft: rows stay with _cdc_deleted_at set and user columns NULL.",
    order: 1,
  }),
  tombstone_retention_days: z.number().min(1).default(7).meta({
    title: "Tombstone retention (days)",
    description: "How long hard-delete tombstones are kept; must exceed the source's replay window.",
    order: 2,
  }),
  memory_budget_bytes: z
    .int()
    .min(MiB)
    .default(512 * MiB)
    .meta({
      title: "Memory budget (bytes)",
      description:
        "Estimated memory for all stream buffers together; at the limit the largest buffer is flushed and input pauses.",
      order: 3,
    }),
  flush_bytes: z
    .int()
    .min(1024)
    .default(64 * MiB)
    .meta({ title: "Flush at buffer size (bytes)", order: 4 }),
  flush_records: z.int().min(1).default(500_000).meta({ title: "Flush at record count", order: 5 }),
  flush_interval_s: z.number().min(0.01).default(300).meta({
    title: "Flush interval (s)",
    description: "Maximum age of a buffer, and of a received but not yet committed STATE, before a flush.",
    order: 6,
  }),
  on_type_error: z.enum(["fail", "null_and_record"]).default("fail").meta({
    title: "On type error",
    description:
      "fail: abort the sync naming stream, line, field and key. null_and_record: write NULL and record the change in _airbyte_meta.",
    order: 7,
  }),
  strict_order: z.boolean().default(false).meta({
    title: "Strict order",
    description:
      "Fail when a record is older than its stream's newest record in this sync (otherwise counted, logged and guarded).",
    order: 8,
  }),
});

export type DestinationConfig = z.infer<typeof DestinationConfig>;
export type TargetConfig = DestinationConfig["target"];
export type LocalTargetConfig = z.infer<typeof localTargetSchema>;
export type AzureTargetConfig = z.infer<typeof azureTargetSchema>;
export type DatabricksTargetConfig = z.infer<typeof databricksTargetSchema>;
