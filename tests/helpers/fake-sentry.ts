import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { closeServer, listenOnLoopback } from './loopback.js';

/** A local HTTP endpoint that accepts Sentry envelopes and keeps their bodies. */
export async function startFakeSentry(): Promise<{ dsn: string; envelopes: string[]; stop(): Promise<void> }> {
  const envelopes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.url?.includes('/envelope/')) envelopes.push(body.toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  const url = new URL(await listenOnLoopback(server));
  return {
    dsn: `http://0123456789abcdef0123456789abcdef@${url.host}/42`,
    envelopes,
    stop: () => closeServer(server),
  };
}
