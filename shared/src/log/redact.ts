/**
 * Secret scrubbing for every string that leaves the process (LOG, TRACE, stderr). Values come from
 * config fields marked `airbyte_secret` in the spec; URI passwords and credential query parameters
 * (changefeed sink URIs embed account keys) are masked by pattern as well.
 */
export const MASK = "**********";

const CREDENTIAL_PARAM =
  /((?:AZURE_ACCOUNT_KEY|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|CREDENTIALS|AZURE_CLIENT_SECRET|sig|password|token|secret|AccountKey|SharedAccessSignature)=)([^&;\s"']+)/gi;
const URI_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)(@)/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g;

export class Redactor {
  private secrets: string[] = [];

  addSecret(value: unknown): void {
    if (typeof value !== "string" || value.length < 4) return;
    for (const form of new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)])) {
      if (!this.secrets.includes(form)) this.secrets.push(form);
    }
    this.secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out.replace(CREDENTIAL_PARAM, `$1${MASK}`).replace(URI_PASSWORD, `$1${MASK}$3`).replace(BEARER, `$1${MASK}`);
  }
}

export type JsonSchemaNode = {
  [keyword: string]: unknown;
  airbyte_secret?: boolean;
  properties?: Record<string, JsonSchemaNode>;
  oneOf?: JsonSchemaNode[];
  anyOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
};

/** Collect the config values found at `airbyte_secret` paths of a spec (oneOf variants included). */
export function collectSecrets(specSchema: unknown, config: unknown, redactor: Redactor): void {
  const schema = (specSchema ?? {}) as JsonSchemaNode;
  if (config === null || config === undefined) return;
  if (schema.airbyte_secret) {
    redactor.addSecret(config);
    return;
  }
  for (const variant of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) collectSecrets(variant, config, redactor);
  if (schema.items && Array.isArray(config)) for (const v of config) collectSecrets(schema.items, v, redactor);
  if (schema.properties && typeof config === "object") {
    for (const [key, sub] of Object.entries(schema.properties)) {
      collectSecrets(sub, (config as Record<string, unknown>)[key], redactor);
    }
  }
}
