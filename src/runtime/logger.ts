import winston from 'winston';
import type { Redactor } from './redact.js';
import { redactDeep } from './redact.js';

export type Logger = winston.Logger;

/**
 * JSON lines on standard error (standard output is kept for --json
 * summaries), one `job` field on every line, secrets removed from the
 * message and every field. `pretty` is for people at a terminal.
 */
export function createLogger(options: {
  job: string;
  level: string;
  format: 'json' | 'pretty';
  redact: Redactor;
  stream?: NodeJS.WritableStream;
}): Logger {
  const scrub = winston.format((info) => {
    const out = info as Record<string | symbol, unknown>;
    for (const key of Object.keys(out)) out[key] = redactDeep(out[key], options.redact);
    return info;
  });
  const format =
    options.format === 'json'
      ? winston.format.combine(scrub(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          scrub(),
          winston.format.timestamp({ format: 'HH:mm:ss' }),
          winston.format.printf((info) => {
            const { level, message, timestamp, job: _job, problems, stack, ...rest } = info as Record<string, unknown>;
            const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
            const list = Array.isArray(problems) ? problems.map((p) => `\n  - ${String(p)}`).join('') : '';
            const trace = typeof stack === 'string' ? `\n${stack}` : '';
            return `${String(timestamp)} ${String(level).padEnd(5)} ${String(message)}${extra}${list}${trace}`;
          }),
        );
  return winston.createLogger({
    level: options.level,
    defaultMeta: { job: options.job },
    format,
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
}

/** Waits until winston has written everything, so nothing is lost at exit. */
export async function flushLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 500).unref();
  });
}
