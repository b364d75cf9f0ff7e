import type { Readable } from 'node:stream';

/** An answer with its status: a page, a JSON document, or a stream (the CSV export). */
export type Answer = { status: number; type: string; body: string | Readable; headers?: Record<string, string> };

/** An error answered with its own status (404, 401, 429 …) and headers; its message is meant for the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const html = (body: string, status = 200): Answer => ({ status, type: 'text/html; charset=utf-8', body });
