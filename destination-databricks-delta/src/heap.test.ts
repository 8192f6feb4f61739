import { describe, expect, it } from "vitest";
import { limitHeapGrowth } from "./heap.js";

describe("limitHeapGrowth", () => {
  it("leaves a --heap-growing-percent given to node alone", () => {
    expect(limitHeapGrowth(["--heap-growing-percent=30"])).toBe(false);
    expect(limitHeapGrowth(["--max-old-space-size=1664", "--heap_growing_percent", "30"])).toBe(false);
  });
});
