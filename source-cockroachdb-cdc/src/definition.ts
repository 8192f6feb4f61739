import { type ConnectorDefinition, ConnectorError, errorMessage } from "@cdc-delta/shared";
import { connect } from "./catalog/pg.js";
import { discover } from "./catalog/discover.js";
import { SourceConfig } from "./config.js";
import { findFeeds } from "./layout/feeds.js";
import { classify } from "./layout/names.js";
import { readBatches, readMessagesOf } from "./read.js";
import { openStore } from "./storage/index.js";

export const sourceDefinition: ConnectorDefinition<SourceConfig> = {
  name: "source-cockroachdb-cdc",
  kind: "source",
  configSchema: SourceConfig,
  spec: {
    documentationUrl: "https://www.cockroachlabs.com/docs/stable/changefeed-sinks#cloud-storage-sink",
    supportsIncremental: true,
  } as never,
  async check(config, ctx) {
    let store: Awaited<ReturnType<typeof openStore>>;
    try {
      store = await openStore(config.storage);
      const feeds = await findFeeds(store, config.layout);
      let data = 0;
      let resolved = 0;
      const topics = new Set<string>();
      for (const feed of feeds.slice(0, 20)) {
        let n = 0;
        for await (const o of feed.store.list({})) {
          const c = classify(o.key, o.size);
          if (c.kind === "data") {
            data++;
            topics.add(c.table);
          } else if (c.kind === "resolved") resolved++;
          if (++n >= 2000 || (data > 0 && resolved > 0 && n > 50)) break;
        }
      }
      if (data === 0 && resolved === 0) {
        return {
          status: "FAILED",
          message: `no changefeed files under ${store.description}: check the prefix (and that the changefeed has started)`,
        };
      }
      if (resolved === 0)
        ctx.logger.warn(
          `no RESOLVED files yet under ${store.description}: reads will emit nothing until the changefeed writes one (create it WITH resolved)`,
        );
      if (data === 0) ctx.logger.warn(`only RESOLVED files so far under ${store.description}: no changefeed topic seen yet`);
      else ctx.logger.info(`found changefeed topics: ${[...topics].slice(0, 20).join(", ")}`);
    } catch (e) {
      if (e instanceof ConnectorError && e.failureType !== "system_error") return { status: "FAILED", message: e.message };
      return { status: "FAILED", message: `storage check failed: ${errorMessage(e)}` };
    }
    if (config.cockroachdb) {
      try {
        const c = await connect(config.cockroachdb.connection_string, config.cockroachdb.timeout_seconds);
        await c.query("SELECT 1");
        await c.end();
      } catch (e) {
        return { status: "FAILED", message: errorMessage(e) };
      }
    }
    return { status: "SUCCEEDED" };
  },
  discover(config, ctx) {
    return discover(config, ctx.logger);
  },
  read(config, catalog, state, ctx) {
    return readMessagesOf(readBatches(config, catalog, state, { logger: ctx.logger, signal: ctx.signal }));
  },
};
