import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.js';

/** One SendEmail call the fake accepted. */
export interface SesMessage {
  messageId: string;
  from: string;
  to: string[];
  /** The raw MIME message, decoded from base64. */
  raw: string;
  tags: { Name: string; Value: string }[];
  configurationSet: string | undefined;
  at: number;
}

/** What the fake answers to a request instead of accepting it. */
export type SesFault =
  | { status: number; type: string; message: string }
  /** Never answers (the client's request timeout must end it). */
  | 'hang'
  /** Accepts the message, then answers with a malformed body. */
  | 'garbage';

/**
 * A local HTTP stand-in for Amazon SES v2 SendEmail
 * (`POST /v2/email/outbound-emails`), speaking its REST-JSON wire format:
 * JSON request with a base64 raw MIME message, `{"MessageId"}` on success,
 * errors as an HTTP status with `x-amzn-ErrorType` and `{"message"}`.
 * Faults are scripted: for the next requests, or for one recipient always.
 */
export class FakeSes {
  readonly messages: SesMessage[] = [];
  /** Every request, accepted or not: recipient and time. */
  readonly requests: { to: string[]; at: number; authorized: boolean }[] = [];
  private readonly queue: SesFault[] = [];
  private readonly perRecipient = new Map<string, SesFault>();
  /** Answers every request this much later (a slow SES). */
  delayMs = 0;
  /** Called when a request arrives, before it is answered (tests use it to kill the sender mid-request). */
  onRequest: ((to: string[]) => void) | null = null;
  private server: Server | null = null;
  private readonly open = new Set<ServerResponse>();
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = await listenOnLoopback(this.server);
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    await closeServer(this.server);
  }

  /** The next `times` requests get `fault`. */
  failNext(fault: SesFault, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push(fault);
  }

  /** Every request to `address` gets `fault` (a rejected recipient). */
  failFor(address: string, fault: SesFault): void {
    this.perRecipient.set(address.toLowerCase(), fault);
  }

  reset(): void {
    this.messages.length = 0;
    this.requests.length = 0;
    this.queue.length = 0;
    this.perRecipient.clear();
    this.onRequest = null;
    this.delayMs = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails')
      return this.error(res, 404, 'UnknownOperationException', `no such operation: ${req.method} ${req.url}`);
    const authorized = /^AWS4-HMAC-SHA256 Credential=\S+/.test(String(req.headers.authorization ?? ''));
    let input: {
      FromEmailAddress?: string;
      Destination?: { ToAddresses?: string[] };
      Content?: { Raw?: { Data?: string } };
      EmailTags?: { Name: string; Value: string }[];
      ConfigurationSetName?: string;
    };
    try {
      input = JSON.parse(body);
    } catch {
      return this.error(res, 400, 'BadRequestException', 'request body is not JSON');
    }
    const to = input.Destination?.ToAddresses ?? [];
    this.requests.push({ to, at: Date.now(), authorized });
    this.onRequest?.(to);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (!authorized)
      return this.error(
        res,
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    const fault =
      this.queue.shift() ?? to.map((a) => this.perRecipient.get(a.toLowerCase())).find((f) => f !== undefined);
    if (fault === 'hang') {
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
      return;
    }
    if (fault !== undefined && fault !== 'garbage') return this.error(res, fault.status, fault.type, fault.message);
    if (!input.Content?.Raw?.Data || !input.FromEmailAddress || to.length === 0)
      return this.error(
        res,
        400,
        'BadRequestException',
        'FromEmailAddress, Destination and Content.Raw.Data are required',
      );
    const messageId = `0100019${randomBytes(12).toString('hex')}-000000`;
    this.messages.push({
      messageId,
      from: input.FromEmailAddress,
      to,
      raw: Buffer.from(input.Content.Raw.Data, 'base64').toString('utf8'),
      tags: input.EmailTags ?? [],
      configurationSet: input.ConfigurationSetName,
      at: Date.now(),
    });
    if (fault === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"MessageId": ');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': randomBytes(8).toString('hex') });
    res.end(JSON.stringify({ MessageId: messageId }));
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
      'x-amzn-requestid': randomBytes(8).toString('hex'),
    });
    res.end(JSON.stringify({ message }));
  }
}
