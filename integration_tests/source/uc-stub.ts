/** A local stand-in for the Databricks Files API (directories + files), with pagination, auth and injected 503s. */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";

export interface UcStub {
  url: string;
  token: string;
  requests: string[];
  close(): Promise<void>;
}

export async function startUcStub(root: string, options: { pageSize?: number; failEveryNth?: number } = {}): Promise<UcStub> {
  const token = "dapi-test-token";
  const requests: string[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end('{"error_code":"UNAUTHENTICATED"}');
      return;
    }
    if (options.failEveryNth && ++n % options.failEveryNth === 0) {
      res.writeHead(503).end('{"error_code":"TEMPORARILY_UNAVAILABLE"}');
      return;
    }
    const m = /^\/api\/2\.0\/fs\/(files|directories)(\/.*)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const path = join(root, decodeURIComponent(m[2] as string));
    if (m[1] === "directories") {
      let names: string[];
      try {
        names = readdirSync(path).sort().reverse(); // deliberately unsorted order
      } catch {
        res.writeHead(404).end('{"error_code":"NOT_FOUND"}');
        return;
      }
      const size = options.pageSize ?? 2;
      const start = Number(url.searchParams.get("page_token") ?? 0);
      const page = names.slice(start, start + size);
      const contents = page.map((name) => {
        const s = statSync(join(path, name));
        const p = `${decodeURIComponent(m[2] as string).replace(/\/$/, "")}/${name}`;
        return s.isDirectory()
          ? { path: p, is_directory: true, name }
          : { path: p, is_directory: false, file_size: s.size, last_modified: s.mtimeMs, name };
      });
      const body: Record<string, unknown> = { contents };
      if (start + size < names.length) body.next_page_token = String(start + size);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      return;
    }
    if (req.method === "PUT") {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, Buffer.concat(chunks));
        res.writeHead(204).end();
      });
      return;
    }
    let data: Buffer;
    try {
      if (!statSync(path).isFile()) throw new Error("dir");
      data = readFileSync(path);
    } catch {
      res.writeHead(404).end('{"error_code":"NOT_FOUND"}');
      return;
    }
    res.writeHead(200, { "content-length": String(data.length), "content-type": "application/octet-stream" });
    res.end(req.method === "HEAD" ? undefined : data);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, token, requests, close: () => new Promise((r) => server.close(() => r())) };
}
