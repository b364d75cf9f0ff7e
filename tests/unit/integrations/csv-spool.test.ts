import { afterEach, describe, expect, test } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ConfigError, TempFailError } from '../../../src/errors.js';
import { lineOfOffset, spoolError, spoolInput, type SpooledInput } from '../../../src/integrations/csv/spool.js';
import { readHeader, readRecords } from '../../../src/integrations/csv/records.js';

const spooled: SpooledInput[] = [];
afterEach(async () => {
  await Promise.all(spooled.splice(0).map((s) => s.remove()));
});

/** Feeds the bytes in small chunks, so that every check also meets chunk boundaries. */
async function spool(bytes: Buffer | string, chunk = 3): Promise<SpooledInput> {
  const buf = Buffer.from(bytes);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  const s = await spoolInput(() => Readable.from(parts));
  spooled.push(s);
  return s;
}

async function records(s: SpooledInput) {
  const header = (await readHeader(s.path))!;
  const out = [];
  for await (const r of readRecords(s.path, header.fields.length)) out.push(r);
  return { header, out };
}

describe('spooling an input', () => {
  test('keeps the exact bytes and their SHA-256', async () => {
    const s = await spool('a,b\n1,2\n');
    expect(readFileSync(s.path, 'utf8')).toBe('a,b\n1,2\n');
    expect(s.size).toBe(8);
    expect(s.sha256).toBe(createHash('sha256').update('a,b\n1,2\n').digest('hex'));
  });

  test('a file that cannot be opened rejects the promise instead of crashing the process', async () => {
    await expect(spoolInput(() => createReadStream('/nonexistent/input.csv'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  test("the working copy's failures say what to do: full disk temporary (75), unwritable folder a setting (78)", () => {
    const at = (code: string, path: string) => Object.assign(new Error(code), { code, path });
    const spoolPath = join(tmpdir(), 'leadsmart-import-abc123', 'input.csv');
    const full = spoolError(at('ENOSPC', spoolPath), spoolPath);
    expect(full).toBeInstanceOf(TempFailError);
    expect((full as TempFailError).exitCode).toBe(75);
    expect(full!.message).toMatch(
      /the disk is full \(ENOSPC\); nothing was imported\. Free space there, or set TMPDIR/,
    );
    const denied = spoolError(at('EACCES', spoolPath), spoolPath);
    expect(denied).toBeInstanceOf(ConfigError);
    expect(denied!.message).toContain('set TMPDIR to a folder this user can write to');
    // The input's own errors are not the working copy's.
    expect(spoolError(at('ENOENT', '/data/exports/missing.csv'), spoolPath)).toBeNull();
    expect(spoolError(at('EACCES', join(tmpdir(), 'leadsmart-import-x', 'their.csv')), spoolPath)).toBeNull();
    expect(spoolError(new Error('something else'), spoolPath)).toBeNull();
    // The folder could not be made at all: the setting is named whatever the path.
    expect(spoolError(at('ENOENT', '/nonexistent/leadsmart-import-Ab12Cd'), null)).toBeInstanceOf(ConfigError);
  });

  test('accepts UTF-8 split across chunks, and finds the first byte that is not UTF-8', async () => {
    const ok = await spool('name\nZürich — 東京\n', 1);
    expect(ok.invalidUtf8At).toBe(-1);
    const latin1 = Buffer.concat([Buffer.from('name\nok\nZ'), Buffer.from([0xfc]), Buffer.from('rich\n')]);
    const bad = await spool(latin1, 2);
    expect(bad.invalidUtf8At).toBe(9);
    expect(await lineOfOffset(bad.path, bad.invalidUtf8At)).toBe(3);
  });

  test('reports a UTF-8 sequence cut off at the end of the input', async () => {
    const s = await spool(Buffer.concat([Buffer.from('a\n'), Buffer.from([0xe2, 0x82])]));
    expect(s.invalidUtf8At).toBe(2);
  });

  test('recognises UTF-16 input, and does not take a UTF-8 byte-order mark for it', async () => {
    expect((await spool('\ufeffa,b\n')).utf16).toBe(false);
    expect((await spool(Buffer.from('\ufeffa,b\n', 'utf16le'))).utf16).toBe(true);
  });

  test(
    'notes the last quote, the end of the content before trailing ' +
      'empty lines, the longest line and a COPY end marker',
    async () => {
      const s = await spool('"a",b\n1,22222\r\n\r\n\n');
      expect(s.lastQuoteAt).toBe(2);
      expect(s.contentEnd).toBe(13);
      expect(s.maxLineBytes).toBe(8);
      expect(s.hasCopyEndMarker).toBe(false);
      expect((await spool('a\n\\.\nb\n')).hasCopyEndMarker).toBe(true);
    },
  );
});

describe('reading records with csv-parse', () => {
  test('numbers each record by the line it starts on, across quoted line breaks and blank lines', async () => {
    const { header, out } = await records(await spool('\ufeffid,note\r\n1,"two\r\nlines"\r\n\r\n2,"a, b"\r\n3,x\r\n'));
    expect(header).toEqual({ fields: ['id', 'note'], lines: 1, end: 12, lineEnd: '\r\n' });
    expect(out).toEqual([
      { line: 2, fields: ['1', 'two\r\nlines'] },
      { line: 5, fields: ['2', 'a, b'] },
      { line: 6, fields: ['3', 'x'] },
    ]);
  });

  test('marks ragged rows but tolerates extra empty fields', async () => {
    const { out } = await records(await spool('a,b,c\n1,2\n1,2,3,4\n1,2,3,,\n'));
    expect(out.map((r) => r.problem ?? 'ok')).toEqual([
      'expected 3 fields as in the header, found 2',
      'expected 3 fields as in the header, found 4 (a comma inside a value needs the value in double quotes)',
      'ok',
    ]);
    expect(out[2]!.fields).toEqual(['1', '2', '3']);
  });

  test('counts blank lines before the header and line breaks inside it', async () => {
    const { header, out } = await records(await spool('\n\n"id","long\nname"\n1,x\n'));
    expect(header.lines).toBe(4);
    expect(out).toEqual([{ line: 5, fields: ['1', 'x'] }]);
  });

  test('ends with one problem row at an unclosed quote, keeping the rows before it', async () => {
    const { out } = await records(await spool('a,b\n1,2\n3,"open\n4,5\n'));
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual({ line: 2, fields: ['1', '2'] });
    expect(out[1]!.line).toBe(3);
    expect(out[1]!.problem).toMatch(/^a double quote opens a field on or after line 3 and is never closed/);
  });

  test('marks a field over 1 MiB as a problem row and goes on reading', async () => {
    const { out } = await records(await spool(`a,b\n1,${'x'.repeat(1024 * 1024 + 1)}\n2,ok\n`, 1 << 16));
    expect(out.map((r) => [r.line, r.problem ?? 'ok'])).toEqual([
      [2, 'field 2: longer than 1 MiB'],
      [3, 'ok'],
    ]);
  });
});
