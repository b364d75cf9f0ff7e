import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pathToFileURL } from 'node:url';
import { openBlobStore, type BlobStore } from '../../../src/integrations/storage/blob-store.js';
import { startFakeS3 } from '../../helpers/fake-s3.js';

/** 12 MiB in 64 KiB chunks: more than two 5 MiB multipart parts on S3. */
function bigStream(): { stream: Readable; sha256: string; size: number } {
  const chunks = Array.from({ length: 192 }, (_, i) => Buffer.alloc(65536, i));
  return {
    stream: Readable.from(chunks),
    sha256: createHash('sha256').update(Buffer.concat(chunks)).digest('hex'),
    size: 192 * 65536,
  };
}

function failingStream(): Readable {
  let n = 0;
  return new Readable({
    read() {
      n += 1;
      // Fails after 7 MiB, once a first multipart part has gone up.
      if (n > 112) this.destroy(new Error('disk went away'));
      else this.push(Buffer.alloc(65536, n));
    },
  });
}

const fake = await startFakeS3('leadsmart-test');
const fileRoot = mkdtempSync(join(tmpdir(), 'blobs-'));
const stores: [string, () => Promise<BlobStore>][] = [
  ['file://', () => openBlobStore(pathToFileURL(fileRoot).href)],
  ['s3:// (s3rver)', () => openBlobStore('s3://leadsmart-test/archive', { s3Config: fake.s3Config })],
];

afterAll(async () => {
  await fake.stop();
});

describe.each(stores)('%s blob store', (_name, open) => {
  let store: BlobStore;
  beforeAll(async () => {
    store = await open();
  });

  test('streams an object in and reads back the same bytes, reporting size and SHA-256', async () => {
    const { stream, sha256, size } = bigStream();
    const put = await store.put('imports/2025-11-15/big.bin', stream, { contentType: 'application/octet-stream' });
    expect(put).toEqual({ key: 'imports/2025-11-15/big.bin', size, sha256 });
    const back = await buffer(await store.get('imports/2025-11-15/big.bin'));
    expect(createHash('sha256').update(back).digest('hex')).toBe(sha256);
  });

  test('lists by prefix and deletes', async () => {
    await store.put('facebook/2025-11-15/a.json', '{"a":1}');
    await store.put('facebook/2025-11-16/b.json', Buffer.from('{"b":2}'));
    expect((await store.list('facebook/2025-11-15/')).map((b) => b.key)).toEqual(['facebook/2025-11-15/a.json']);
    expect((await store.list('facebook/')).map((b) => [b.key, b.size])).toEqual([
      ['facebook/2025-11-15/a.json', 7],
      ['facebook/2025-11-16/b.json', 7],
    ]);
    await store.delete('facebook/2025-11-15/a.json');
    expect(await store.exists('facebook/2025-11-15/a.json')).toBe(false);
    expect(await store.exists('facebook/2025-11-16/b.json')).toBe(true);
  });

  test('a source that fails mid-stream leaves no object under the key', async () => {
    await expect(store.put('broken/partial.bin', failingStream())).rejects.toThrow(/disk went away/);
    expect(await store.exists('broken/partial.bin')).toBe(false);
    expect(await store.list('broken/')).toEqual([]);
  });

  test('refuses keys that escape the store', async () => {
    await expect(store.put('../outside.txt', 'x')).rejects.toThrow(/invalid blob key/);
    await expect(store.put('/abs.txt', 'x')).rejects.toThrow(/invalid blob key/);
  });
});

test('the file store leaves no temporary files behind after a failed write', async () => {
  const store = await openBlobStore(pathToFileURL(fileRoot).href);
  await expect(store.put('tmpcheck/x.bin', failingStream())).rejects.toThrow();
  expect(readdirSync(join(fileRoot, 'tmpcheck'))).toEqual([]);
});
