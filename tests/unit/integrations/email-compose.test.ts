import { describe, expect, test } from '@jest/globals';
import { simpleParser } from 'mailparser';
import {
  addressOf,
  composeMessage,
  messageIdFor,
  type OutgoingMessage,
} from '../../../src/integrations/email/compose.js';

const message = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: 'Leadsmart Alerts <alerts@leadsmart.example>',
  to: 'marketing@acme.example',
  subject: '3 campaigns need attention — Acme Dental — 2025-11-15',
  text: 'Acme Dental: campaigns for 15 Nov 2025\n— Größe, 50 %\n',
  html: '<p>Acme Dental: campaigns for 15 Nov 2025 — Größe</p>',
  messageId: messageIdFor('42', 'marketing@acme.example', 'Leadsmart Alerts <alerts@leadsmart.example>'),
  date: new Date('2025-11-16T01:35:00Z'),
  unsubscribe: { mailto: 'mailto:alerts@leadsmart.example?subject=unsubscribe%20acme' },
  headers: { 'X-Leadsmart-Client': 'acme' },
  ...over,
});

describe('composeMessage', () => {
  test(
    'builds multipart/alternative with the text part before the HTML ' +
      'part, both UTF-8, and a non-ASCII subject that round-trips',
    async () => {
      const raw = (await composeMessage(message())).toString('utf8');
      const mail = await simpleParser(raw);
      expect(mail.subject).toBe('3 campaigns need attention — Acme Dental — 2025-11-15');
      expect(mail.text).toBe('Acme Dental: campaigns for 15 Nov 2025\n— Größe, 50 %\n');
      expect(mail.html).toContain('Größe');
      expect(raw).toMatch(/Content-Type: multipart\/alternative/);
      expect(raw.indexOf('Content-Type: text/plain; charset=utf-8')).toBeLessThan(
        raw.indexOf('Content-Type: text/html; charset=utf-8'),
      );
      expect(mail.messageId).toBe(message().messageId);
      expect(mail.headers.get('x-leadsmart-client')).toBe('acme');
    },
  );

  test(
    'sets List-Unsubscribe to the mailto target, and adds the https ' + 'one and List-Unsubscribe-Post for one click',
    async () => {
      const unfold = (b: Buffer) => b.toString('utf8').replace(/\r?\n[ \t]+/g, ' ');
      const plain = unfold(await composeMessage(message()));
      expect(plain).toMatch(/^List-Unsubscribe: <mailto:alerts@leadsmart\.example\?subject=unsubscribe%20acme>\r?$/m);
      expect(plain).not.toContain('List-Unsubscribe-Post');
      const oneClick = unfold(
        await composeMessage(
          message({
            unsubscribe: {
              mailto: 'mailto:alerts@leadsmart.example',
              url: 'https://leadsmart.example/unsubscribe?client=acme',
            },
          }),
        ),
      );
      expect(oneClick).toMatch(
        new RegExp(
          '^List-Unsubscribe: <https://leadsmart\\.example/unsubscribe\\?client=acme>, ' +
            '<mailto:alerts@leadsmart\\.example>\\r?$',
          'm',
        ),
      );
      expect(oneClick).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    },
  );

  test('the Message-ID is the same for the same digest and recipient, and differs per recipient', () => {
    expect(messageIdFor('7', 'A@x.example', 'alerts@leadsmart.example')).toBe(
      messageIdFor('7', 'a@x.example', 'Ops <alerts@leadsmart.example>'),
    );
    expect(messageIdFor('7', 'a@x.example', 'alerts@leadsmart.example')).not.toBe(
      messageIdFor('7', 'b@x.example', 'alerts@leadsmart.example'),
    );
    expect(messageIdFor('7', 'a@x.example', 'alerts@leadsmart.example')).toMatch(
      /^<digest-7\.[0-9a-f]{16}@leadsmart\.example>$/,
    );
    expect(addressOf('Leadsmart <alerts@leadsmart.example>')).toBe('alerts@leadsmart.example');
  });
});
