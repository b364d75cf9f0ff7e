import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface PutResult {
  key: string;
  size: number;
  /** Hex SHA-256 of the bytes stored. */
  sha256: string;
}

/** Server-side encryption to ask S3 for. */
export interface Encryption {
  mode: 'AES256' | 'aws:kms';
  /** KMS key id or ARN, for aws:kms; unset = the account's default KMS key. */
  kmsKeyId?: string | undefined;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** S3 only; the file store keeps blobs on local disk as they are. */
  encryption?: Encryption;
  /** S3 multipart part size in bytes (default 8 MiB); parts in flight × this is the memory used. */
  partSize?: number;
}

/** What the store says about a stored blob. */
export interface BlobHead {
  size: number;
  metadata: Record<string, string>;
  /** The server-side encryption the store reports: 'AES256', 'aws:kms', or 'none' (not encrypted, or a file store). */
  encryption: string;
  kmsKeyId: string | null;
}

/**
 * Where raw API responses, CSV archives and backups go (BLOB_URL). Keys are
 * relative, slash-separated paths; a put is atomic: readers never see a
 * partial object under its final key.
 */
export interface BlobStore {
  readonly url: string;
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<PutResult>;
  get(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Size, metadata and encryption of a blob; null when there is none. */
  head(key: string): Promise<BlobHead | null>;
  /**
   * Replaces a blob's metadata (S3: a server-side copy onto itself, for
   * objects up to 5 GiB; returns false when the object is larger or the
   * store keeps no metadata, as the file store).
   */
  replaceMetadata(key: string, metadata: Record<string, string>, encryption?: Encryption): Promise<boolean>;
  list(prefix: string): Promise<BlobInfo[]>;
  delete(key: string): Promise<void>;
  /**
   * Removes what a killed put left under `prefix` before `before` (the file store's `*.partial-*` files) and returns
   * their names. S3 keeps nothing partial under a key: a killed multipart upload waits for the bucket's lifecycle
   * rule (AbortIncompleteMultipartUpload), so there it removes nothing.
   */
  sweepPartials(prefix: string, before: Date): Promise<string[]>;
}

export class BlobKeyError extends Error {}

function checkKey(key: string): string {
  if (
    key === '' ||
    key.startsWith('/') ||
    key.split('/').some((p) => p === '' || p === '.' || p === '..') ||
    key.includes('\\') ||
    key.includes('\0')
  ) {
    throw new BlobKeyError(
      `invalid blob key ${JSON.stringify(key)}: use relative slash-separated names without empty, "." or ".." parts`,
    );
  }
  return key;
}

/** Hashes and counts the bytes flowing through. */
function measuring(): { stream: Transform; result: () => { size: number; sha256: string } } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, result: () => ({ size, sha256: hash.digest('hex') }) };
}

const toStream = (body: Readable | Buffer | string): Readable =>
  body instanceof Readable ? body : Readable.from([Buffer.from(body)]);

class FileBlobStore implements BlobStore {
  constructor(
    readonly url: string,
    private readonly root: string,
  ) {}

  async put(key: string, body: Readable | Buffer | string): Promise<PutResult> {
    const target = join(this.root, checkKey(key));
    // Dumps, raw API answers and imported files are the clients' data: readable by the jobs' user alone.
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temp = `${target}.partial-${randomBytes(4).toString('hex')}`;
    const m = measuring();
    try {
      await pipeline(toStream(body), m.stream, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { key, ...m.result() };
  }

  async get(key: string): Promise<Readable> {
    const path = join(this.root, checkKey(key));
    await stat(path); // a missing key fails here, not later mid-stream
    return createReadStream(path);
  }

  async exists(key: string): Promise<boolean> {
    return stat(join(this.root, checkKey(key))).then(
      () => true,
      () => false,
    );
  }

  async head(key: string): Promise<BlobHead | null> {
    const s = await stat(join(this.root, checkKey(key))).catch(() => null);
    return s === null ? null : { size: s.size, metadata: {}, encryption: 'none', kmsKeyId: null };
  }

  async replaceMetadata(): Promise<boolean> {
    return false;
  }

  /** Every regular file under the root whose name starts with `prefix`, as a key, with its path and stat. */
  private async files(
    prefix: string,
    keep: (name: string) => boolean,
  ): Promise<{ key: string; path: string; mtime: Date; size: number }[]> {
    const out: { key: string; path: string; mtime: Date; size: number }[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else if (e.isFile() && keep(e.name)) {
          const key = relative(this.root, path).split(sep).join('/');
          const s = key.startsWith(prefix) ? await stat(path).catch(() => null) : null;
          if (s !== null) out.push({ key, path, mtime: s.mtime, size: s.size });
        }
      }
    };
    await walk(this.root);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    return (await this.files(prefix, (name) => !name.includes('.partial-'))).map((f) => ({
      key: f.key,
      size: f.size,
      lastModified: f.mtime,
    }));
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.root, checkKey(key)), { force: true });
  }

  async sweepPartials(prefix: string, before: Date): Promise<string[]> {
    const stale = (await this.files(prefix, (name) => /\.partial-[0-9a-f]+$/.test(name))).filter(
      (f) => f.mtime < before,
    );
    for (const f of stale) await rm(f.path, { force: true });
    return stale.map((f) => f.key);
  }
}

class S3BlobStore implements BlobStore {
  constructor(
    readonly url: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  private full(key: string): string {
    return `${this.prefix}${checkKey(key)}`;
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<PutResult> {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const m = measuring();
    const pass = new PassThrough();
    const feeding = pipeline(toStream(body), m.stream, pass);
    // Multipart upload from a stream: bounded memory, and S3 only shows the object once it completes.
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.full(key),
        Body: pass,
        ContentType: options.contentType,
        Metadata: options.metadata,
        ServerSideEncryption: options.encryption?.mode,
        SSEKMSKeyId: options.encryption?.mode === 'aws:kms' ? options.encryption.kmsKeyId : undefined,
      },
      queueSize: 2,
      partSize: options.partSize ?? 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    const done = upload.done();
    done.catch(() => undefined);
    try {
      await Promise.all([feeding, done]);
    } catch (error) {
      // Fail the body so the uploader stops, then let it finish: on failure it aborts the multipart upload
      // itself once the parts in flight are done. Then abort once more by id, in case it never started one
      // before failing; an upload already aborted answers NoSuchUpload, which is fine.
      pass.destroy(error instanceof Error ? error : new Error(String(error)));
      await done.catch(() => undefined);
      if (upload.uploadId) {
        const { AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
        await this.client
          .send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.full(key), UploadId: upload.uploadId }),
          )
          .catch(() => undefined);
      }
      throw error;
    }
    return { key, ...m.result() };
  }

  async get(key: string): Promise<Readable> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
    return res.Body as Readable;
  }

  async exists(key: string): Promise<boolean> {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  async head(key: string): Promise<BlobHead | null> {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      return {
        size: h.ContentLength ?? 0,
        metadata: h.Metadata ?? {},
        encryption: h.ServerSideEncryption ?? 'none',
        kmsKeyId: h.SSEKMSKeyId ?? null,
      };
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw error;
    }
  }

  async replaceMetadata(key: string, metadata: Record<string, string>, encryption?: Encryption): Promise<boolean> {
    const head = await this.head(key);
    // A single CopyObject handles up to 5 GiB; beyond that S3 needs a multipart copy.
    if (head === null || head.size > 5 * 1024 ** 3) return false;
    const { CopyObjectCommand } = await import('@aws-sdk/client-s3');
    const full = this.full(key);
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: full,
        CopySource: `${this.bucket}/${full.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        Metadata: metadata,
        ServerSideEncryption: encryption?.mode,
        SSEKMSKeyId: encryption?.mode === 'aws:kms' ? encryption.kmsKeyId : undefined,
      }),
    );
    return true;
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const out: BlobInfo[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}${prefix}`, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? [])
        out.push({
          key: (o.Key ?? '').slice(this.prefix.length),
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
        });
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async delete(key: string): Promise<void> {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
  }

  async sweepPartials(): Promise<string[]> {
    return [];
  }
}

/**
 * Opens the store named by a BLOB_URL. `file:///abs/path` or
 * `s3://bucket/prefix`; for S3 the AWS SDK reads its own environment
 * (AWS_REGION, AWS_ENDPOINT_URL, credentials); `s3Config` adds to it.
 */
export async function openBlobStore(url: string, options: { s3Config?: S3ClientConfig } = {}): Promise<BlobStore> {
  if (url.startsWith('file://')) {
    const root = fileURLToPath(url);
    await mkdir(root, { recursive: true });
    return new FileBlobStore(url, root);
  }
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new BlobKeyError(`BLOB_URL=${url}: expected file:///absolute/path or s3://bucket/prefix`);
  const { S3Client } = await import('@aws-sdk/client-s3');
  const prefix = m[2] ? `${m[2].replace(/\/+$/, '')}/` : '';
  // Every request is retried by the SDK (exponential backoff with jitter); AWS_MAX_ATTEMPTS overrides.
  const client = new S3Client({
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(process.env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 5 }),
    ...options.s3Config,
  });
  return new S3BlobStore(url, client, m[1]!, prefix);
}
