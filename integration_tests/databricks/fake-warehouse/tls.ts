/** A throwaway self-signed certificate for 127.0.0.1 (openssl), so the stock driver's TLS path is real. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function selfSignedCert(): { key: string; cert: string } {
  const d = mkdtempSync(join(tmpdir(), "fake-wh-tls-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      join(d, "key.pem"),
      "-out",
      join(d, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(join(d, "key.pem"), "utf8"), cert: readFileSync(join(d, "cert.pem"), "utf8") };
}
