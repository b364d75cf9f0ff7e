import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.js';

/**
 * An HTTP proxy in front of s3rver that adds the S3 behaviour s3rver lacks
 * and the faults tests need, on the real wire protocol:
 * - server-side encryption: an object written with x-amz-server-side-encryption
 *   is reported with it on HEAD/GET, as S3 does (s3rver ignores the header);
 * - AbortMultipartUpload (DELETE ?uploadId=…), which s3rver answers with 405,
 *   and a ledger of multipart uploads started, completed and aborted;
 * - scripted faults (an S3 error answer for matching requests) and slow parts.
 */
export class S3Proxy {
  private server: Server | null = null;
  private readonly inFlight = new Set<import('node:http').ClientRequest>();
  private readonly encrypted = new Map<string, { mode: string; kmsKeyId?: string }>();
  readonly uploads = new Map<string, { key: string; state: 'open' | 'completed' | 'aborted' }>();
  readonly requests: { method: string; path: string; query: string }[] = [];
  /** Applies SSE as asked (true), or ignores the header like a store that cannot encrypt (false). */
  honourEncryption = true;
  /** Delay before forwarding each UploadPart, in ms. */
  partDelayMs = 0;
  private faults: {
    match: (method: string, query: URLSearchParams) => boolean;
    status: number;
    code: string;
    times: number;
  }[] = [];
  /** Called when an UploadPart request arrives. */
  onPart: (() => void) | null = null;
  url = '';

  constructor(private readonly upstream: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = await listenOnLoopback(this.server);
    return this;
  }

  async stop(): Promise<void> {
    for (const up of this.inFlight) up.destroy();
    this.server?.closeAllConnections();
    await closeServer(this.server);
  }

  /** The next `times` requests that `match` get an S3 error answer. */
  fail(match: 'any' | 'part' | 'put' | 'get' | 'head', status = 503, code = 'ServiceUnavailable', times = 1): void {
    const m = {
      any: () => true,
      part: (method: string, q: URLSearchParams) => method === 'PUT' && q.has('partNumber'),
      put: (method: string, q: URLSearchParams) => method === 'PUT' && !q.has('partNumber'),
      get: (method: string) => method === 'GET',
      head: (method: string) => method === 'HEAD',
    }[match];
    this.faults.push({ match: m, status, code, times });
  }

  reset(): void {
    this.faults = [];
    this.partDelayMs = 0;
    this.honourEncryption = true;
    this.onPart = null;
    this.requests.length = 0;
    this.uploads.clear();
  }

  openUploads(): string[] {
    return [...this.uploads.entries()].filter(([, u]) => u.state === 'open').map(([id]) => id);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://proxy');
    const q = u.searchParams;
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(u.pathname);
    this.requests.push({ method, path, query: u.search });
    const fault = this.faults.find((f) => f.times > 0 && f.match(method, q));
    if (fault) {
      fault.times -= 1;
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" ` +
          `encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected ` +
          `by the test proxy</Message></Error>`,
      );
      return;
    }
    if (method === 'DELETE' && q.has('uploadId')) {
      req.resume();
      const upload = this.uploads.get(q.get('uploadId')!);
      if (upload) upload.state = 'aborted';
      res.writeHead(204);
      res.end();
      return;
    }
    if (method === 'PUT' && q.has('partNumber')) {
      this.onPart?.();
      if (this.partDelayMs > 0) await new Promise((r) => setTimeout(r, this.partDelayMs));
    }
    const sse = req.headers['x-amz-server-side-encryption'];
    const creates = (method === 'PUT' && !q.has('partNumber')) || (method === 'POST' && q.has('uploads'));
    if (creates) {
      if (typeof sse === 'string' && this.honourEncryption) {
        const kms = req.headers['x-amz-server-side-encryption-aws-kms-key-id'];
        this.encrypted.set(path, { mode: sse, kmsKeyId: typeof kms === 'string' ? kms : undefined });
      } else this.encrypted.delete(path);
    }
    if (method === 'DELETE') this.encrypted.delete(path);
    const target = new URL(this.upstream);
    // agent: false: one connection per request, so s3rver can close when the test ends.
    const up = request(
      { host: target.hostname, port: target.port, method, path: req.url, headers: req.headers, agent: false },
      (answer) => {
        const headers = { ...answer.headers };
        const e = this.encrypted.get(path);
        if (e && (method === 'HEAD' || method === 'GET' || creates || (method === 'POST' && q.has('uploadId')))) {
          headers['x-amz-server-side-encryption'] = e.mode;
          if (e.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = e.kmsKeyId;
        }
        if (method === 'POST' && (q.has('uploads') || q.has('uploadId'))) {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            const id = q.get('uploadId') ?? /<UploadId>([^<]+)<\/UploadId>/.exec(body.toString())?.[1];
            if (id && q.has('uploads')) this.uploads.set(id, { key: path, state: 'open' });
            if (id && q.has('uploadId') && (answer.statusCode ?? 500) < 300)
              this.uploads.set(id, { key: path, state: 'completed' });
            delete headers['content-length'];
            res.writeHead(answer.statusCode ?? 500, headers);
            res.end(body);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 500, headers);
        answer.pipe(res);
      },
    );
    this.inFlight.add(up);
    up.on('close', () => this.inFlight.delete(up));
    up.on('error', () => res.destroy());
    // A client that goes away (a killed job) must not leave s3rver waiting for the rest of a body.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }
}
