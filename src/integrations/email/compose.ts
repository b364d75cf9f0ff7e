import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';

/** One message to one recipient. */
export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** RFC 5322 Message-ID, angle brackets included; deterministic per delivery (see messageIdFor). */
  messageId: string;
  date: Date;
  /** mailto: (always) and https: (one-click, RFC 8058) unsubscribe targets. */
  unsubscribe: { mailto: string; url?: string | undefined };
  /** Extra headers (X-Leadsmart-*) for support and filtering. */
  headers: Record<string, string>;
}

/** The bare address of `Name <addr>` or `addr`. */
export function addressOf(mailbox: string): string {
  return /<([^<>]+)>\s*$/.exec(mailbox)?.[1] ?? mailbox.trim();
}

/**
 * A Message-ID that is the same for the same digest and recipient: a
 * message sent twice by accident carries the same id, which lets mail
 * systems that de-duplicate on it drop the copy.
 */
export function messageIdFor(digestId: string, recipient: string, from: string): string {
  const domain = addressOf(from).split('@')[1] ?? 'leadsmart.invalid';
  const who = createHash('sha256').update(recipient.toLowerCase()).digest('hex').slice(0, 16);
  return `<digest-${digestId}.${who}@${domain}>`;
}

/**
 * The raw MIME message: multipart/alternative with the text part first and
 * the HTML part last (clients show the last part they can render), UTF-8,
 * quoted-printable, List-Unsubscribe (and List-Unsubscribe-Post when an
 * https URL allows one click). Built by nodemailer's MailComposer, which
 * handles the encodings and line lengths mail servers insist on. (Its
 * `list` option belongs to nodemailer's transport layer, which MailComposer
 * alone does not apply, so the List-* headers are set here.)
 */
export async function composeMessage(m: OutgoingMessage): Promise<Buffer> {
  // RFC 2369 / RFC 8058: each target in angle brackets; the https one first, with the one-click marker.
  const headers: Record<string, string> = { ...m.headers };
  headers['List-Unsubscribe'] = [m.unsubscribe.url, m.unsubscribe.mailto]
    .filter((u): u is string => u !== undefined)
    .map((u) => `<${u}>`)
    .join(', ');
  if (m.unsubscribe.url) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  const composer = new MailComposer({
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    date: m.date,
    headers,
  });
  return composer.compile().build();
}
