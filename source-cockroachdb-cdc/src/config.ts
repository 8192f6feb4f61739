/**
 * The one config schema of the source. Every field but `storage` has a default; the smallest valid
 * config is `{"storage": {"type": "local", "path": "<dir>"}}`. The Airbyte spec is generated from it.
 */
import { z } from "zod";

const prefix = z
  .string()
  .default("")
  .meta({
    title: "Path prefix",
    description: "Folder inside the bucket/container/volume that holds the changefeed output (or the seed layout's root).",
    examples: ["cdc/shop"],
    order: 9,
  });

const Local = z
  .object({
    type: z.literal("local").meta({ order: 0 }),
    path: z
      .string()
      .min(1)
      .meta({
        title: "Folder",
        description: "Local folder the changefeed writes to (nodelocal, tests).",
        examples: ["/data/cdc"],
        order: 1,
      }),
  })
  .meta({ title: "Local folder" });

const Azure = z
  .object({
    type: z.literal("azure").meta({ order: 0 }),
    account_name: z.string().default("").meta({ title: "Storage account name", order: 1 }),
    container: z.string().min(1).meta({ title: "Container", order: 2 }),
    prefix,
    account_key: z.string().optional().meta({ title: "Account key", airbyte_secret: true, order: 3 }),
    sas_token: z.string().optional().meta({
      title: "SAS token",
      description: "Shared access signature (query string without the leading ?).",
      airbyte_secret: true,
      order: 4,
    }),
    connection_string: z.string().optional().meta({ title: "Connection string", airbyte_secret: true, order: 5 }),
    endpoint: z
      .string()
      .optional()
      .meta({ title: "Blob endpoint override", description: "e.g. Azurite: http://127.0.0.1:10000/devstoreaccount1", order: 6 }),
  })
  .meta({ title: "Azure Blob Storage" });

const S3 = z
  .object({
    type: z.literal("s3").meta({ order: 0 }),
    bucket: z.string().min(1).meta({ title: "Bucket", order: 1 }),
    prefix,
    region: z.string().default("us-east-1").meta({ title: "Region", order: 2 }),
    access_key_id: z.string().optional().meta({ title: "Access key id", order: 3 }),
    secret_access_key: z.string().optional().meta({ title: "Secret access key", airbyte_secret: true, order: 4 }),
    session_token: z.string().optional().meta({ title: "Session token", airbyte_secret: true, order: 5 }),
    endpoint: z
      .string()
      .optional()
      .meta({ title: "Endpoint override", description: "S3-compatible endpoint (MinIO, moto).", order: 6 }),
    force_path_style: z.boolean().default(false).meta({ title: "Path-style addressing", order: 7 }),
  })
  .meta({ title: "S3 / S3-compatible" });

const Gcs = z
  .object({
    type: z.literal("gcs").meta({ order: 0 }),
    bucket: z.string().min(1).meta({ title: "Bucket", order: 1 }),
    prefix,
    credentials_json: z.string().optional().meta({ title: "Service account JSON", airbyte_secret: true, order: 2 }),
    project_id: z.string().optional().meta({ title: "Project id", order: 3 }),
    api_endpoint: z
      .string()
      .optional()
      .meta({ title: "API endpoint override", description: "e.g. fake-gcs-server: http://127.0.0.1:4443", order: 4 }),
  })
  .meta({ title: "Google Cloud Storage" });

const UcVolume = z
  .object({
    type: z.literal("uc_volume").meta({ order: 0 }),
    host: z
      .string()
      .min(1)
      .meta({ title: "Workspace URL", examples: ["https://adb-123.4.azuredatabricks.net"], order: 1 }),
    token: z.string().min(1).meta({ title: "Access token", airbyte_secret: true, order: 2 }),
    volume_path: z
      .string()
      .min(1)
      .meta({ title: "Volume path", examples: ["/Volumes/main/cdc/feeds/shop"], order: 3 }),
  })
  .meta({ title: "Databricks Unity Catalog volume" });

export const StorageConfig = z.discriminatedUnion("type", [Local, Azure, S3, Gcs, UcVolume]).meta({
  title: "Storage",
  description: "Where the changefeed files are.",
  order: 0,
});

export const SourceConfig = z.object({
  storage: StorageConfig,
  layout: z.enum(["auto", "changefeed", "seed"]).default("auto").meta({
    title: "Layout",
    description:
      "`changefeed`: the prefix is one changefeed's output. `seed`: `{format}/{catalog}/{schema}/{src_table}/{target_table}/` folders, one feed each, with `_metadata/schema.json`. `auto` detects.",
    order: 1,
  }),
  tables: z
    .array(z.string())
    .default([])
    .meta({ title: "Tables", description: "Table (topic) names to read; empty = all. Matched exactly.", order: 2 }),
  primary_keys: z
    .record(z.string(), z.array(z.string()))
    .default({})
    .meta({ title: "Primary key overrides", description: "Per stream name, the primary key columns in order.", order: 3 }),
  cockroachdb: z
    .object({
      connection_string: z.string().meta({
        title: "Connection string",
        description: "postgresql://user:pass@host:26257/db?sslmode=verify-full",
        airbyte_secret: true,
        order: 0,
      }),
      timeout_seconds: z.number().int().positive().default(15).meta({ title: "Timeout (s)", order: 1 }),
    })
    .optional()
    .meta({
      title: "CockroachDB SQL connection (optional)",
      description: "Used by discover for exact column types, families and keys.",
      order: 4,
    }),
  emit_late_rows: z.boolean().default(false).meta({
    title: "Emit late rows",
    description: "Emit re-emitted rows at or below the watermark instead of dropping (and counting) them.",
    order: 5,
  }),
  multi_table_consistency: z.boolean().default(false).meta({
    title: "Multi-table consistency",
    description: "Advance every stream only to the newest RESOLVED timestamp common to all feeds.",
    order: 6,
  }),
  max_window_bytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024)
    .meta({
      title: "Max window size (bytes)",
      description: "Soft cap on data bytes read per window; windows end at a RESOLVED file.",
      order: 7,
    }),
  memory_limit_rows: z
    .number()
    .int()
    .positive()
    .default(100_000)
    .meta({ title: "Rows held in memory", description: "A window with more rows is sorted externally on disk.", order: 8 }),
  state_every_records: z.number().int().positive().default(100_000).meta({
    title: "Intermediate state interval",
    description: "Records of one stream between intermediate STATEs inside a large window.",
    order: 9,
  }),
  temp_dir: z
    .string()
    .optional()
    .meta({ title: "Temporary folder", description: "For spilled windows; default the OS temp folder.", order: 10 }),
});

export type SourceConfig = z.infer<typeof SourceConfig>;
export type StorageConfig = z.infer<typeof StorageConfig>;
