/**
 * A tiny static server for the built explorer, on 127.0.0.1 only. Every response carries
 * the two headers that make the page cross-origin isolated, which SharedArrayBuffer (the
 * core's shared memory) needs: Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp.
 *
 *   node --import tsx examples/explorer/serve.ts [DIR] [PORT]
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OUT } from './build.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.png': 'image/png',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/** Serves `dir` on 127.0.0.1:`port` (0: any free port); resolves with the server and its URL. */
export async function serveExplorer(dir = DEFAULT_OUT, port = 8080): Promise<{ server: Server; url: string }> {
  const root = normalize(dir + sep);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root) || req.method !== 'GET') {
      res.writeHead(req.method === 'GET' ? 403 : 405, ISOLATION_HEADERS).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { ...ISOLATION_HEADERS, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' }).end(body),
      () => res.writeHead(404, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain' }).end('not found'),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return { server, url: `http://127.0.0.1:${actual}/` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url } = await serveExplorer(process.argv[2] ?? DEFAULT_OUT, Number(process.argv[3] ?? 8080));
  console.log(`the explorer is at ${url} (Ctrl-C stops the server)`);
}
