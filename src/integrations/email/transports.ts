import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { AlertTuning } from '../../config/load-config.js';
import { composeMessage, type OutgoingMessage } from './compose.js';

/**
 * Where digests go: Amazon SES (v2 API) or an outbox folder of .eml files.
 * A transport sends one message to one recipient and classifies failures;
 * pacing and retries are the caller's (the send-alerts job), so every
 * transport behaves the same under them.
 */
export interface MailTransport {
  readonly name: 'ses' | 'outbox';
  /** Where messages end up, for the operator (never holds a secret). */
  readonly describe: string;
  /** Sends; resolves with the transport's message id. Throws MailSendError. */
  send(message: OutgoingMessage, key: DeliveryKey): Promise<{ messageId: string }>;
  /**
   * For a delivery interrupted between handing it over and recording it:
   * true/false when the transport can tell whether it went out, null when
   * it cannot (SES keeps no queryable record of sent mail).
   */
  wasSent(key: DeliveryKey): Promise<boolean | null>;
}

/** Identifies one delivery (a digest to a recipient) to the transport. */
export interface DeliveryKey {
  digestId: string;
  date: string;
  clientId: string;
  recipient: string;
}

/**
 * A failed send. `kind`: `retry` (refused before it was accepted: throttled,
 * a server error answer, no connection; safe to try again), `unknown` (the
 * request went out and no usable answer came back: a timeout, a reset, a
 * garbled answer; the message may have been accepted, so it is never
 * retried), `quota` (the daily sending quota is spent: stop for this run),
 * `rejected` (this recipient or message refused for good), `account`
 * (credentials, identity or account refused: nothing will go out until an
 * operator acts).
 */
export class MailSendError extends Error {
  constructor(
    message: string,
    readonly kind: 'retry' | 'unknown' | 'quota' | 'rejected' | 'account',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailSendError';
  }
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._@+-]/g, '_').slice(0, 120);
}

/** .eml files under `<dir>/<date>/`, one per delivery, written atomically (temporary file, then rename). */
export class OutboxTransport implements MailTransport {
  readonly name = 'outbox' as const;
  constructor(readonly dir: string) {}

  get describe(): string {
    return `the outbox folder ${this.dir}`;
  }

  pathFor(key: DeliveryKey): string {
    return join(
      this.dir,
      key.date,
      `${safeName(key.clientId || 'no-client')}-digest${key.digestId}-${safeName(key.recipient)}.eml`,
    );
  }

  async send(message: OutgoingMessage, key: DeliveryKey): Promise<{ messageId: string }> {
    const raw = await composeMessage(message);
    const path = this.pathFor(key);
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(join(this.dir, key.date), { recursive: true });
      await writeFile(tmp, raw);
      await rename(tmp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const fatal = code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EPERM';
      throw new MailSendError(
        `cannot write ${path}: ${(error as Error).message}` +
          `${fatal ? '; check MAIL_TRANSPORT and the folder permissions' : ''}`,
        fatal ? 'account' : 'retry',
        { cause: error },
      );
    }
    return { messageId: message.messageId };
  }

  async wasSent(key: DeliveryKey): Promise<boolean> {
    try {
      await access(this.pathFor(key));
      return true;
    } catch {
      return false;
    }
  }
}

const ACCOUNT_ERRORS = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'AccessDeniedException',
  'AccessDenied',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);
const THROTTLE_ERRORS = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'LimitExceededException',
]);
const REJECTED_ERRORS = new Set(['MessageRejected', 'BadRequestException', 'InvalidParameterValue']);
/** Failures that happen before a request reaches the server: nothing can have been accepted. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Maps an AWS SDK error of SendEmail to a MailSendError (by error name, then HTTP status). */
export function classifySesError(error: unknown): MailSendError {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(error)}`;
  if (/daily message quota/i.test(e?.message ?? '')) {
    return new MailSendError(
      `SES: the daily sending quota is used up (${detail}); the rest ` +
        `goes out on the next run, or ask AWS for a higher quota`,
      'quota',
      { cause: error },
    );
  }
  if (ACCOUNT_ERRORS.has(name) || status === 401 || status === 403) {
    return new MailSendError(
      `SES refused the account or its credentials (${detail}); check ` +
        `the AWS credentials, that ALERT_FROM's identity is verified in ` +
        `the region, and the account's sending status in the SES console`,
      'account',
      { cause: error },
    );
  }
  if (THROTTLE_ERRORS.has(name) || status === 429)
    return new MailSendError(`SES throttled the send (${detail})`, 'retry', { cause: error });
  if (REJECTED_ERRORS.has(name))
    return new MailSendError(`SES rejected the message (${detail})`, 'rejected', { cause: error });
  if (status !== undefined && status >= 500)
    return new MailSendError(`SES answered with a server error (${detail})`, 'retry', { cause: error });
  const code = (e as { code?: string })?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  if ((code !== undefined && NOT_CONNECTED.has(code)) || /did not establish a connection/.test(e?.message ?? '')) {
    return new MailSendError(
      `cannot reach SES (${detail}); check the network and AWS_REGION / AWS_ENDPOINT_URL_SESV2`,
      'retry',
      { cause: error },
    );
  }
  if (status !== undefined && status >= 400)
    return new MailSendError(`SES refused the request (${detail})`, 'rejected', { cause: error });
  // A timeout after connecting, a reset, a garbled 200: SES may have accepted the message.
  return new MailSendError(
    `SES gave no usable answer (${detail}); the message may or may not have been accepted`,
    'unknown',
    { cause: error },
  );
}

/** Tag values SES accepts: letters, digits, _ and -. */
function tagValue(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

/**
 * Amazon SES through the v2 API (SendEmail with raw MIME). Region,
 * credentials and endpoint come from the AWS SDK's own settings
 * (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SESV2, instance roles …).
 * The SDK's own retries are off: send-alerts paces and retries itself.
 */
export class SesTransport implements MailTransport {
  readonly name = 'ses' as const;
  private constructor(
    private readonly client: SESv2Client,
    private readonly sendCommand: typeof import('@aws-sdk/client-sesv2').SendEmailCommand,
    private readonly configurationSet: string | undefined,
  ) {}

  static async create(tuning: AlertTuning): Promise<SesTransport> {
    // Loaded only when mail goes through SES: it is large and --help must stay fast.
    const { SESv2Client, SendEmailCommand } = await import('@aws-sdk/client-sesv2');
    const client = new SESv2Client({
      maxAttempts: 1,
      // Without throwOnRequestTimeout the handler only warns when requestTimeout passes.
      requestHandler: {
        requestTimeout: tuning.requestTimeoutMs,
        throwOnRequestTimeout: true,
        connectionTimeout: Math.min(tuning.requestTimeoutMs, 10_000),
      },
    });
    return new SesTransport(client, SendEmailCommand, tuning.sesConfigurationSet);
  }

  get describe(): string {
    return `Amazon SES${this.configurationSet ? ` (configuration set ${this.configurationSet})` : ''}`;
  }

  async send(message: OutgoingMessage, key: DeliveryKey): Promise<{ messageId: string }> {
    const raw = await composeMessage(message);
    try {
      const out = await this.client.send(
        new this.sendCommand({
          FromEmailAddress: message.from,
          Destination: { ToAddresses: [message.to] },
          Content: { Raw: { Data: raw } },
          ConfigurationSetName: this.configurationSet,
          EmailTags: [
            { Name: 'client', Value: tagValue(key.clientId || 'no-client') },
            { Name: 'digest', Value: tagValue(key.digestId) },
          ],
        }),
      );
      if (!out.MessageId)
        throw new MailSendError(
          'SES answered without a MessageId; the message may or may not have been accepted',
          'unknown',
        );
      return { messageId: out.MessageId };
    } catch (error) {
      if (error instanceof MailSendError) throw error;
      throw classifySesError(error);
    }
  }

  async wasSent(): Promise<null> {
    return null;
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** The transport MAIL_TRANSPORT names. */
export async function openMailTransport(
  setting: string,
  tuning: AlertTuning,
): Promise<MailTransport & { destroy?(): void }> {
  if (setting === 'ses') return SesTransport.create(tuning);
  return new OutboxTransport(setting.slice('outbox:'.length));
}
