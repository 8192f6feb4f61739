import { Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";

/** zstd streaming decompression with fzstd (pure JS, shipped in its npm tarball). */
export function createZstdDecompress(): Transform {
  let decoder: Decompress;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb) {
      try {
        decoder.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  decoder = new Decompress((data) => {
    t.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return t;
}

/** Decompress by extension; gzip via zlib, zstd via fzstd. */
export function decompressStream(input: Readable, codec: "gz" | "zst" | null): Readable {
  if (codec === null) return input;
  const d = codec === "gz" ? createGunzip({ chunkSize: 1 << 18 }) : createZstdDecompress();
  input.on("error", (e) => d.destroy(e));
  return input.pipe(d);
}
