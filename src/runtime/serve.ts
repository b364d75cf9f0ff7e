import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnavailableError } from '../errors.js';
import type { JobContext } from './runner.js';

/**
 * A service's life (status-server, crm-webhook): listen, say where on standard error, serve until SIGTERM/SIGINT,
 * then stop accepting, let the requests in progress finish (at most 10 s) and return how many were served.
 */
export async function serveUntilSignal(
  ctx: JobContext<unknown>,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  where: { host: string; port: number; settings: string },
): Promise<{ url: string; served: number }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE' || e.code === 'EACCES'
          ? new UnavailableError(
              `cannot listen on ${where.host}:${where.port}: ${e.code}; ` +
                `choose another ${where.settings}, or stop what uses it`,
            )
          : e,
      ),
    );
    server.listen(where.port, where.host, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  ctx.logger.info(`listening on ${url}`, { url });
  ctx.stderr.write(`${ctx.job} listening on ${url}\n`);
  let served = 0;
  server.on('request', () => (served += 1));
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.logger.info('stopping: no new connections; letting requests in progress finish');
  server.closeIdleConnections();
  await Promise.race([
    new Promise<void>((r) => server.close(() => r())),
    new Promise<void>((r) => setTimeout(r, 10_000).unref()),
  ]);
  server.closeAllConnections();
  return { url, served };
}
