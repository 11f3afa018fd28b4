/** Reading what adapters and the HTTP transport hand back: listings, download bodies, errors. */
import { createHash } from 'node:crypto';
import type { AudioDownload } from '../../lambdas/core/ports.ts';

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Reads a download to its end; the metered body counts and hashes as it is read. */
export async function drain(download: AudioDownload): Promise<{ bytes: number; sha256: string | undefined }> {
  for await (const _chunk of download.body) {
    // reading is what counts and hashes
  }
  return { bytes: download.body.bytes, sha256: download.body.sha256 };
}

export async function readAll(download: AudioDownload): Promise<Buffer> {
  return Buffer.concat(await collect(download.body as AsyncIterable<Buffer>));
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The error a promise rejects with; undefined when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Everything an adapter lists for the window. */
export const listAll = <W extends object, T>(
  adapter: { list(window: W): AsyncIterable<T> },
  window = {} as W,
) => collect(adapter.list(window));
