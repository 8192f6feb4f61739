import type { StorageConfig } from "../config.js";
import { LocalStore } from "./local.js";
import type { ObjectStore } from "./types.js";

/** The configured backend, rooted at its prefix. Cloud SDKs load lazily (spec stays instant). */
export async function openStore(cfg: StorageConfig): Promise<ObjectStore> {
  switch (cfg.type) {
    case "local":
      return new LocalStore(cfg.path);
    case "azure": {
      const { AzureStore } = await import("./azure.js");
      return new AzureStore(cfg);
    }
    case "s3": {
      const { S3Store } = await import("./s3.js");
      return new S3Store(cfg);
    }
    case "gcs": {
      const { GcsStore } = await import("./gcs.js");
      return new GcsStore(cfg);
    }
    case "uc_volume": {
      const { UcVolumeStore } = await import("./uc-volume.js");
      return new UcVolumeStore(cfg);
    }
  }
}
