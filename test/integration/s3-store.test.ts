import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArchiveStore } from '../../lambdas/aws/s3-store.ts';
import { type LocalArchive, openLocalArchive } from '../../local/stack.ts';
import { sha256 } from '../helpers/streams.ts';

/** `total` bytes in 64 KiB chunks; with `breakAfter`, the stream fails there instead of ending. */
function body(total: number, breakAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (breakAfter !== undefined && sent >= breakAfter) {
        this.destroy(new Error('connection reset by the provider'));
        return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(64 * 1024, total - sent);
      this.push(Buffer.alloc(size, sent % 251));
      sent += size;
    },
  });
}

describe('S3ArchiveStore on the local S3 server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callvault-s3-'));
  let archive: LocalArchive;
  let store: S3ArchiveStore;

  beforeAll(async () => {
    archive = await openLocalArchive(dataDir);
    store = new S3ArchiveStore(archive.s3, 'callvault-audio', { partSize: 5 * 1024 * 1024 });
  });
  afterAll(async () => {
    await archive.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function stored(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it.each([
    ['a known length (one streamed PutObject)', 3_000_000, 3_000_000],
    ['an unknown length (multipart upload)', 12_000_000, undefined],
  ])('stores every byte of a body with %s', async (_, total, contentLength) => {
    const key = `recordings/whole-${total}.wav`;
    await store.write(key, body(total), 'audio/wav', { test: 'yes' }, contentLength);
    const bytes = await stored(key);
    expect(bytes.length).toBe(total);
    expect(sha256(bytes)).toBe(sha256(await Buffer.concat(await body(total).toArray())));
    expect(await store.find(key.replace(/wav$/, ''))).toMatchObject({
      key,
      bytes: total,
      contentType: 'audio/wav',
    });
  });

  it.each([
    ['a known length', 3_000_000],
    ['an unknown length', undefined],
  ])('leaves no object when a body of %s breaks half way', async (_, contentLength) => {
    const key = `recordings/broken-${contentLength ?? 'unknown'}.wav`;
    const total = contentLength ?? 12_000_000;
    await expect(store.write(key, body(total, total / 2), 'audio/wav', {}, contentLength)).rejects.toThrow(
      /connection reset/,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await store.find(key.replace(/wav$/, ''))).toBeUndefined();
  });
});

describe('the local S3 server: listings from its key index', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callvault-s3-list-'));
  const bucket = 'callvault-audio';
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function listAll(archive: LocalArchive, input: Omit<ListObjectsV2CommandInput, 'Bucket'>) {
    const keys: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await archive.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, ...input, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((object) => object.Key as string));
      prefixes.push(...(page.CommonPrefixes ?? []).map((common) => common.Prefix as string));
      token = page.NextContinuationToken;
    } while (token);
    return { keys, prefixes };
  }

  it('answers prefixes, delimiters, StartAfter and pages in key order, through its own writes and after a restart', async () => {
    let archive = await openLocalArchive(dataDir);
    const put = (key: string) =>
      archive.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const written = [
      'b/2026/11/01/r-2.wav',
      'a/x.wav',
      'b/2026/11/01/r-1.wav',
      'b/2026/11/01/r-10.mp3',
      'b/2026/11/02/r-3.wav',
      'b/2026.txt',
      'c.wav',
    ];
    for (const key of written) await put(key);
    const expectAnswers = async () => {
      expect((await listAll(archive, {})).keys).toEqual([...written].sort());
      expect((await listAll(archive, { Prefix: 'b/2026/11/01/r-1' })).keys).toEqual([
        'b/2026/11/01/r-1.wav',
        'b/2026/11/01/r-10.mp3',
      ]);
      expect((await listAll(archive, { Prefix: 'b/2026/11/01/r-1.' })).keys).toEqual([
        'b/2026/11/01/r-1.wav',
      ]);
      expect(await listAll(archive, { Prefix: 'b/', Delimiter: '/' })).toEqual({
        keys: ['b/2026.txt'],
        prefixes: ['b/2026/'],
      });
      expect((await listAll(archive, { StartAfter: 'b/2026/11/01/r-10.mp3' })).keys).toEqual(
        [...written].sort().filter((key) => key > 'b/2026/11/01/r-10.mp3'),
      );
      expect((await listAll(archive, { MaxKeys: 2 })).keys).toEqual([...written].sort());
    };
    await expectAnswers();

    // Deletes and copies keep the index.
    await archive.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'c.wav' }));
    await archive.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'a/y.wav', CopySource: `${bucket}/a/x.wav` }),
    );
    written.splice(written.indexOf('c.wav'), 1, 'a/y.wav');
    await expectAnswers();
    expect((await listAll(archive, { Prefix: 'c' })).keys).toEqual([]);

    // A restarted server reads the keys from disk.
    await archive.close();
    archive = await openLocalArchive(dataDir);
    try {
      await expectAnswers();
    } finally {
      await archive.close();
    }
  });
});
