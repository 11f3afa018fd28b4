/**
 * Generated audio for the simulators: valid PCM WAV, different for every recording (seeded by
 * its id), of any length, streamed without holding the whole file in memory.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const HEADER_BYTES = 44;

export interface WavOptions {
  seconds: number;
  sampleRate?: number;
  channels?: number;
}

export class SyntheticWav {
  readonly sampleRate: number;
  readonly channels: number;
  readonly dataBytes: number;
  /** One second of samples, repeated for the length of the recording. */
  private readonly block: Buffer;
  private readonly header: Buffer;

  constructor(
    readonly seed: string,
    options: WavOptions,
  ) {
    this.sampleRate = options.sampleRate ?? 8000;
    this.channels = options.channels ?? 1;
    const bytesPerSecond = this.sampleRate * this.channels * 2;
    this.dataBytes =
      Math.max(2 * this.channels, Math.round(options.seconds * this.sampleRate)) * this.channels * 2;
    this.block = makeBlock(seed, bytesPerSecond);
    this.header = wavHeader(this.dataBytes, this.sampleRate, this.channels);
  }

  get size(): number {
    return HEADER_BYTES + this.dataBytes;
  }

  /** Bytes [start, end) of the file. */
  slice(start: number, end: number): Buffer {
    const parts: Buffer[] = [];
    let position = start;
    while (position < end) {
      if (position < HEADER_BYTES) {
        const part = this.header.subarray(position, Math.min(HEADER_BYTES, end));
        parts.push(part);
        position += part.length;
        continue;
      }
      const offset = (position - HEADER_BYTES) % this.block.length;
      const part = this.block.subarray(offset, Math.min(this.block.length, offset + end - position));
      parts.push(part);
      position += part.length;
    }
    return Buffer.concat(parts);
  }

  buffer(): Buffer {
    return this.slice(0, this.size);
  }

  /** Streams the file (or its first `limit` bytes) in chunks of `chunkBytes`. */
  stream(chunkBytes = 64 * 1024, limit = this.size): Readable {
    const end = Math.min(limit, this.size);
    const wav = this;
    return Readable.from(
      (function* chunks() {
        for (let position = 0; position < end; position += chunkBytes) {
          yield wav.slice(position, Math.min(end, position + chunkBytes));
        }
      })(),
      { objectMode: false },
    );
  }

  sha256(): string {
    const hash = createHash('sha256');
    for (let position = 0; position < this.size; position += 1024 * 1024) {
      hash.update(this.slice(position, Math.min(this.size, position + 1024 * 1024)));
    }
    return hash.digest('hex');
  }
}

function wavHeader(dataBytes: number, sampleRate: number, channels: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28); // byte rate
  header.writeUInt16LE(channels * 2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** A tone whose pitch and noise depend on the seed, so no two recordings share bytes. */
function makeBlock(seed: string, bytes: number): Buffer {
  const digest = createHash('sha256').update(seed).digest();
  let state = digest.readUInt32LE(0) || 1;
  const frequency = 200 + (digest.readUInt16LE(4) % 800);
  const block = Buffer.alloc(bytes);
  for (let index = 0; index < bytes / 2; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const noise = ((state >>> 0) % 2001) - 1000;
    const tone = Math.sin((2 * Math.PI * frequency * index) / 8000) * 8000;
    block.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(tone + noise))), index * 2);
  }
  return block;
}
