/**
 * The audio as it streams by: counted, hashed, and stopped where it is short or too large. Apart
 * from the transport (no HTTP here), so fakes and tests meter a body the same way.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DECLARED_LENGTH_HEAD_BYTES, declaredLength } from '../core/audio-format.ts';
import { DownloadTooLargeError, IncompleteDownloadError } from '../core/errors.ts';

/** 4 GiB: the largest file a RIFF WAV header can describe, and days of telephone audio. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 ** 32;

/**
 * A byte stream that counts and SHA-256-hashes what passes through it. It fails, before it ends,
 * with IncompleteDownloadError when the body is shorter than the announced Content-Length or
 * than the length the file's own header declares (a close-delimited or chunked body that ended
 * cleanly but early), and with DownloadTooLargeError as soon as it passes `maxBytes`.
 */
export class MeteredStream extends Transform {
  bytes = 0;
  /** Hex SHA-256 of every byte, set once the stream has ended. */
  sha256: string | undefined;
  private readonly hash = createHash('sha256');
  private readonly head: Buffer[] = [];
  private headBytes = 0;

  constructor(
    readonly expectedBytes: number | undefined,
    private readonly describe: () => string = () => 'the download',
    private readonly who = 'provider',
    readonly maxBytes = DEFAULT_MAX_DOWNLOAD_BYTES,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(
        new DownloadTooLargeError(
          `${this.who}: the audio download ${this.describe()} passed the account's maxDownloadBytes (${this.maxBytes}); it was stopped there`,
        ),
      );
      return;
    }
    if (this.headBytes < DECLARED_LENGTH_HEAD_BYTES) {
      const part = chunk.subarray(0, DECLARED_LENGTH_HEAD_BYTES - this.headBytes);
      this.head.push(part);
      this.headBytes += part.length;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedBytes !== undefined && this.bytes !== this.expectedBytes) {
      callback(
        new IncompleteDownloadError(
          `${this.who}: the audio download ${this.describe()} ended after ${this.bytes} of ${this.expectedBytes} bytes`,
        ),
      );
      return;
    }
    const declared = declaredLength(Buffer.concat(this.head));
    if (declared && this.bytes < declared.bytes) {
      callback(
        new IncompleteDownloadError(
          `${this.who}: the audio download ${this.describe()} ended after ${this.bytes} bytes, but its ${declared.field} declares ${declared.bytes}`,
        ),
      );
      return;
    }
    this.sha256 = this.hash.digest('hex');
    callback();
  }
}
