import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { UnavailableError } from '../errors.js';
import type { JobContext } from './runner.js';

/**
 * A service's life (status-server, crm-webhook): listen, say where on standard error, serve until SIGTERM/SIGINT,
 * then stop accepting, close idle keep-alive connections, let the requests in progress finish (at most 10 s) and
 * return how many were served.
 */
export async function serveUntilSignal(
  ctx: JobContext<unknown>,
  app: FastifyInstance,
  where: { host: string; port: number; settings: string },
): Promise<{ url: string; served: number }> {
  let served = 0;
  app.addHook('onResponse', async () => {
    served += 1;
  });
  try {
    await app.listen({ host: where.host, port: where.port, listenTextResolver: () => '' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new UnavailableError(
        `cannot listen on ${where.host}:${where.port}: ${code}; choose another ${where.settings}, or stop what uses it`,
        { cause: error },
      );
    throw error;
  }
  const { address, port } = app.server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  ctx.logger.info(`listening on ${url}`, { url });
  ctx.stderr.write(`${ctx.job} listening on ${url}\n`);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.logger.info('stopping: no new connections; letting requests in progress finish');
  await Promise.race([app.close(), new Promise<void>((r) => setTimeout(r, 10_000).unref())]);
  app.server.closeAllConnections();
  return { url, served };
}
