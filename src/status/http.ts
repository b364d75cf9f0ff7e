import type { Readable } from 'node:stream';

/** An answer with its status: a page, a JSON document, or a stream (the CSV export). */
export type Answer = { status: number; type: string; body: string | Readable; headers?: Record<string, string> };

export const html = (body: string, status = 200): Answer => ({ status, type: 'text/html; charset=utf-8', body });
