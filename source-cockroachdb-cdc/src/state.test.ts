import { describe, expect, it } from "vitest";
import { findStreamState, parseStateInput, parseStreamState, stateBlob } from "./state.js";

const blob = {
  v: 1,
  watermark: "1741944420000000000.0000000000",
  cursor: "2025-03-14/202503140927000000000000000000000.RESOLVED",
  pending: [],
};
const msg = (name: string, s: unknown, namespace?: string) => ({
  type: "STREAM",
  stream: { stream_descriptor: namespace ? { name, namespace } : { name }, stream_state: s },
});

describe("accepted --state shapes (airbyte-protocol.md §3)", () => {
  it("absent, [] and null → fresh start", () => {
    for (const s of [undefined, null, []]) expect(findStreamState(parseStateInput(s), "orders", null)).toBeNull();
    expect(parseStreamState(null, "orders")).toEqual({ v: 1, watermark: null, cursor: null, pending: [] });
  });
  it("array of STREAM states: name+namespace first, then name; unknown streams ignored", () => {
    const p = parseStateInput([
      msg("orders", { ...blob, pending: ["x"] }, "other"),
      msg("orders", blob, "shop"),
      msg("zzz", blob),
    ]);
    expect(findStreamState(p, "orders", "shop")).toEqual(blob);
    expect((findStreamState(p, "orders", null) as { pending: string[] }).pending).toEqual(["x"]);
  });
  it("full STATE messages, legacy objects, null optionals", () => {
    expect(findStreamState(parseStateInput([{ type: "STATE", state: msg("orders", blob) }]), "orders", null)).toEqual(blob);
    expect(findStreamState(parseStateInput({ orders: blob }), "orders", null)).toEqual(blob);
    expect(parseStreamState({ ...blob, window: null, after: null, stream_namespace: null }, "orders")).toEqual(blob);
  });
  it("GLOBAL, unknown v, garbage and paths outside the prefix → config_error", () => {
    expect(() => parseStateInput([{ type: "GLOBAL", global: {} }])).toThrow(/GLOBAL/);
    for (const bad of [
      { ...blob, v: 2 },
      { ...blob, watermark: "x" },
      { ...blob, cursor: "../x/202503140927000000000000000000000.RESOLVED" },
      { ...blob, pending: ["/abs/file"] },
      { ...blob, cursor: "2025-03-14/notresolved.txt" },
      "garbage",
    ]) {
      expect(() => parseStreamState(bad, "orders"), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ failureType: "config_error" }),
      );
    }
  });
  it("own blob round-trips (with and without namespace, mid-window)", () => {
    const mid = {
      ...blob,
      window: "1741944430000000000.0000000000",
      after: ["1741944425000000000.0000000000", "[1]", null] as [string, string, null],
    };
    expect(parseStreamState(JSON.parse(JSON.stringify(stateBlob(parseStreamState(mid, "o"), "shop"))), "o")).toEqual({
      ...mid,
      stream_namespace: "shop",
    });
    expect(stateBlob(parseStreamState(blob, "o"), null)).toEqual(blob);
  });
});
