/**
 * A loopback static file server for the browser harnesses (scripts/test-runtimes.ts,
 * bench/browser.ts): folders mounted at URL prefixes, single files at exact paths, optional
 * cross-origin isolation headers.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

export interface StaticServer {
  /** `http://127.0.0.1:PORT/` */
  base: string;
  close: () => Promise<void>;
}

export interface StaticServerOptions {
  /** `[URL prefix ending in /, folder]`, the first matching prefix wins (list `/` last). */
  mounts: Array<[string, string]>;
  /** Exact URL paths served from these files, before the mounts. */
  files?: Record<string, string>;
  /** Adds COOP/COEP (and CORP) headers: pages and workers served from here are cross-origin isolated. */
  isolated?: boolean;
}

/** Starts the server on 127.0.0.1 at a random port. Paths outside a mount's folder are 404s. */
export async function serveStatic(options: StaticServerOptions): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = options.files?.[path];
    if (!file) {
      const mount = options.mounts.find(([prefix]) => path.startsWith(prefix));
      if (mount) {
        const root = mount[1].replace(/[\\/]$/, '');
        const candidate = resolve(root, `.${path.slice(mount[0].length - 1)}`);
        if (candidate === root || candidate.startsWith(root + sep)) file = candidate;
      }
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain', connection: 'close' }).end(`not found: ${path}`);
      return;
    }
    // `connection: close`: Node's fetch (undici) otherwise reuses a kept-alive socket the server
    // is closing after its 5 s idle timeout, and the request fails with "fetch failed".
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-store',
      connection: 'close',
      ...(options.isolated
        ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' }
        : {}),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
