/**
 * What `callvault providers check` does with one recording: download it through the adapter and
 * judge the bytes as the archive step would (the same sniffing), without storing anything.
 */
import { SNIFF_BYTES, sniffAudioFormat } from '../core/audio-format.ts';
import { InvalidAudioError } from '../core/errors.ts';
import type { ProviderAdapter } from '../core/ports.ts';
import type { RecordingRef } from '../core/recording.ts';

export interface CheckedDownload {
  bytes: number;
  sha256: string;
  /** What the bytes are, as the archive would store them. */
  contentType: string;
}

/**
 * Downloads the recording whole (every transport check applies) and sniffs its first bytes.
 * Throws InvalidAudioError, as the archive would, for a body that is not audio we know.
 */
export async function checkDownload(adapter: ProviderAdapter, ref: RecordingRef): Promise<CheckedDownload> {
  const download = await adapter.download(ref);
  const head: Buffer[] = [];
  let headBytes = 0;
  for await (const chunk of download.body) {
    if (headBytes < SNIFF_BYTES) {
      head.push(chunk as Buffer);
      headBytes += (chunk as Buffer).length;
    }
  }
  const first = Buffer.concat(head).subarray(0, SNIFF_BYTES);
  const format = sniffAudioFormat(first);
  if (!format) {
    throw new InvalidAudioError(
      `${adapter.who}: recording ${ref.providerRecordingId} downloaded ${download.body.bytes} bytes that are not audio in a format callvault archives (served as ${download.contentType})`,
    );
  }
  const { bytes, sha256 } = download.body;
  if (sha256 === undefined) throw new Error(`download of ${ref.providerRecordingId} ended without a digest`);
  return { bytes, sha256, contentType: format.contentType };
}
