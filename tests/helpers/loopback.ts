/** Starting and stopping the test stand-ins' HTTP servers on loopback. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 (port 0: any free one) and returns the server's base URL. */
export async function listenOnLoopback(server: Server, port = 0): Promise<string> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes a server (if it was started) once its connections are gone. */
export async function closeServer(server: Server | null | undefined): Promise<void> {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}
