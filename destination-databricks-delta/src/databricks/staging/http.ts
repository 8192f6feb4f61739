/** Minimal HTTP(S) request with a hard deadline (node:https accepts a custom CA; fetch does not). */
import http from "node:http";
import https from "node:https";
import { DriverTimeoutError } from "../driver/errors.js";

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class HttpStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${statusCode} ${body.slice(0, 300)}`);
    this.name = "HttpStatusError";
  }
}

export function httpRequest(
  url: string,
  opts: { method: string; headers?: Record<string, string>; body?: Uint8Array | string; timeoutMs: number; ca?: string | Buffer },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.request(
      u,
      {
        method: opts.method,
        headers: opts.headers,
        ...(opts.ca !== undefined && u.protocol === "https:" ? { ca: opts.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new DriverTimeoutError("upload", opts.timeoutMs, `${opts.method} ${u.pathname}`));
    }, opts.timeoutMs);
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}
