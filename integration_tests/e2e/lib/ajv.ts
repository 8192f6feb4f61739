/** Ajv (Draft-7) with formats and Airbyte's extra keywords allowed; CJS/ESM interop like shared/testing. */
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";

const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ??
  AjvModule) as unknown as typeof AjvModule.default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  a: InstanceType<typeof Ajv>,
) => void;

export function newAjv(): InstanceType<typeof Ajv> {
  const a = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(a);
  // Airbyte's well-known types: `format: date-time` also carries timestamp_without_timezone values
  // (no offset), and `format: time` time_without_timezone values; RFC 3339 alone would reject both.
  a.addFormat("date-time", /^\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?( BC)?$/i);
  a.addFormat("time", /^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:\d{2})?)?$/i);
  return a;
}
