import Bottleneck from 'bottleneck';
import type { AlertTuning } from '../../config/load-config.js';
import type { OutgoingMessage } from './compose.js';
import { MailSendError, type DeliveryKey, type MailTransport } from './transports.js';

/** How one message fared after pacing and retries. */
export type SendOutcome =
  | { status: 'sent'; messageId: string; attempts: number }
  /** Refused for good: this recipient or message. */
  | { status: 'rejected'; error: string; attempts: number }
  /** Not sent; `stop` says why nothing else should be tried in this run. */
  | { status: 'failed'; error: string; attempts: number; stop: 'account' | 'quota' | 'unavailable' | 'interrupted' }
  /**
   * Handed over without a usable answer: it may have gone out, so it is not tried again; the transport is not trusted
   * for the rest of the run.
   */
  | { status: 'unconfirmed'; error: string; attempts: number; stop: 'unavailable' };

/**
 * Sends through a transport at most `sendRate` messages per second, one at
 * a time (bottleneck), retrying throttles and transient failures with
 * exponential backoff and jitter (p-retry). A retry waits its turn in the
 * same queue, so retries never push the rate past the limit.
 */
export class PacedSender {
  private readonly limiter: Bottleneck;
  retries = 0;

  constructor(
    readonly transport: MailTransport,
    private readonly tuning: AlertTuning,
    private readonly hooks: {
      onRetry?(error: MailSendError, attempt: number, delayHintMs: number): void;
      interrupted?(): boolean;
    } = {},
  ) {
    this.limiter = new Bottleneck({ maxConcurrent: 1, minTime: Math.ceil(1000 / tuning.sendRate) });
  }

  async send(message: OutgoingMessage, key: DeliveryKey): Promise<SendOutcome> {
    const { default: pRetry } = await import('p-retry');
    let attempts = 0;
    try {
      const { messageId } = await pRetry(
        async () => {
          attempts += 1;
          try {
            return await this.limiter.schedule(() => this.transport.send(message, key));
          } catch (error) {
            // p-retry only accepts Error instances of this realm; every transport failure becomes a MailSendError.
            throw error instanceof MailSendError
              ? error
              : new MailSendError(`${this.transport.name}: ${(error as Error)?.message ?? String(error)}`, 'retry', {
                  cause: error,
                });
          }
        },
        {
          retries: this.tuning.retries,
          factor: 2,
          minTimeout: this.tuning.retryBaseMs,
          maxTimeout: 30_000,
          randomize: true,
          // No signal here on purpose: aborting p-retry would not stop a request in flight, and a message
          // that may have gone out must not be recorded as not sent. A signal stops the retrying instead.
          shouldRetry: ({ error }) =>
            error instanceof MailSendError && error.kind === 'retry' && !(this.hooks.interrupted?.() ?? false),
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (
              retriesLeft > 0 &&
              error instanceof MailSendError &&
              error.kind === 'retry' &&
              !(this.hooks.interrupted?.() ?? false)
            ) {
              this.retries += 1;
              this.hooks.onRetry?.(
                error,
                attemptNumber,
                Math.min(30_000, this.tuning.retryBaseMs * 2 ** (attemptNumber - 1)),
              );
            }
          },
        },
      );
      return { status: 'sent', messageId, attempts };
    } catch (error) {
      const e =
        error instanceof MailSendError
          ? error
          : new MailSendError((error as Error)?.message ?? String(error), 'retry', { cause: error });
      if (e.kind === 'rejected') return { status: 'rejected', error: e.message, attempts };
      if (e.kind === 'unknown') return { status: 'unconfirmed', error: e.message, attempts, stop: 'unavailable' };
      const interrupted = e.kind === 'retry' && (this.hooks.interrupted?.() ?? false);
      const stop = interrupted
        ? 'interrupted'
        : e.kind === 'account'
          ? 'account'
          : e.kind === 'quota'
            ? 'quota'
            : 'unavailable';
      const error_ =
        stop === 'unavailable'
          ? `${e.message}; still failing after ${attempts} attempt${attempts === 1 ? '' : 's'}`
          : e.message;
      return { status: 'failed', error: error_, attempts, stop };
    }
  }

  async close(): Promise<void> {
    await this.limiter.stop({ dropWaitingJobs: false });
  }
}
