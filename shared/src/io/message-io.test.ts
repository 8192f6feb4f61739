import { PassThrough, Readable, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { recordMessage, logMessage } from "../protocol/messages.js";
import { Redactor } from "../log/redact.js";
import { readMessages, type ReaderStats } from "./message-reader.js";
import { MessageWriter } from "./message-writer.js";

describe("MessageWriter", () => {
  it("writes one compact line per message, losslessly", async () => {
    const out = new PassThrough();
    let text = "";
    out.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    const w = new MessageWriter(out);
    w.write(recordMessage("s", null, { id: 9007199254740993n }, 5));
    await w.end();
    expect(text).toBe('{"type":"RECORD","record":{"stream":"s","data":{"id":9007199254740993},"emitted_at":5}}\n');
  });

  it("applies backpressure: producers wait while the pipe is full, and no line is lost", async () => {
    const received: string[] = [];
    let release: () => void = () => undefined;
    let slow = true;
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk, _enc, cb) {
        received.push(String(chunk));
        if (slow) release = cb;
        else cb();
      },
    });
    const w = new MessageWriter(sink);
    let waited = 0;
    for (let i = 0; i < 2000; i++) {
      const p = w.write(recordMessage("s", null, { i, pad: "x".repeat(100) }, 1));
      if (p) {
        waited++;
        slow = false;
        release();
        await p;
      }
    }
    await w.end();
    expect(waited).toBeGreaterThan(0);
    const lines = received.join("").split("\n").filter(Boolean);
    expect(lines).toHaveLength(2000);
    expect(JSON.parse(lines[1999] as string).record.data.i).toBe(1999);
  });

  it("scrubs secrets from LOG messages", async () => {
    const out = new PassThrough();
    let text = "";
    out.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    const r = new Redactor();
    r.addSecret("topsecretvalue");
    const w = new MessageWriter(out, r);
    w.write(logMessage("ERROR", "login failed for topsecretvalue", "at topsecretvalue"));
    await w.end();
    expect(text).not.toContain("topsecretvalue");
  });
});

describe("readMessages", () => {
  const lines = [
    "Starting wrapper...",
    '{"type":"LOG","log":{"level":"INFO","message":"hi"}}',
    "",
    '{"type":"RECORD","record":{"stream":"s","data":{"id":9223372036854775807,"d":1.50},"emitted_at":1}}',
    '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"}},"sourceStats":{"recordCount":1.0}}}',
  ];

  it("skips and counts noise, parses numbers losslessly, tolerates float recordCount", async () => {
    const stats: ReaderStats = { lines: 0, noiseLines: 0 };
    const got = [];
    for await (const l of readMessages(Readable.from([lines.join("\n")]), stats)) got.push(l);
    expect(stats.noiseLines).toBe(1);
    expect(got.map((g) => g.lineNo)).toEqual([2, 4, 5]);
    const data = (got[1]!.message.record as { data: Record<string, unknown> }).data;
    expect(data.id).toBe(9223372036854775807n);
    expect(String((data.d as { value: string }).value)).toBe("1.50");
  });

  it("fails naming the line for a broken { line", async () => {
    const iter = readMessages(
      Readable.from(['{"type":"LOG","log":{"level":"INFO","message":"a"}}\n{"type": "RECORD", broken\n']),
    );
    await expect(async () => {
      for await (const _ of iter) {
        // drain
      }
    }).rejects.toThrow(/input line 2 is not valid JSON/);
  });

  it("fails naming the line and field for a schema-invalid RECORD", async () => {
    const iter = readMessages(Readable.from(['{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":"now"}}\n']));
    await expect(async () => {
      for await (const _ of iter) {
        // drain
      }
    }).rejects.toThrow(/input line 1 violates the Airbyte protocol at record.emitted_at/);
  });
});
