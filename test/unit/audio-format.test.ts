import { describe, expect, it } from 'vitest';
import { declaredLength, SNIFF_BYTES, sniffAudioFormat } from '../../lambdas/core/audio-format.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator } from '../../local/simulators/voipbin.ts';

const bytes = (...parts: (string | number[] | Buffer)[]) =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))),
  );

describe('sniffAudioFormat', () => {
  it('needs no more than SNIFF_BYTES', () => {
    expect(SNIFF_BYTES).toBe(12);
  });

  it.each([
    ['WAV', bytes('RIFF', [0x24, 0x08, 0, 0], 'WAVEfmt '), 'wav', 'audio/wav'],
    ['MP3 with ID3 tag', bytes('ID3', [4, 0, 0, 0, 0, 0, 0]), 'mp3', 'audio/mpeg'],
    ['MP3 frame sync (MPEG-1 layer III)', bytes([0xff, 0xfb, 0x90, 0x64]), 'mp3', 'audio/mpeg'],
    ['MP3 frame sync (MPEG-2)', bytes([0xff, 0xf3, 0x48, 0xc4]), 'mp3', 'audio/mpeg'],
    ['ZIP', bytes('PK', [3, 4, 20, 0, 0, 0]), 'zip', 'application/zip'],
    ['Ogg', bytes('OggS', [0, 2, 0, 0]), 'ogg', 'audio/ogg'],
    ['FLAC', bytes('fLaC', [0, 0, 0, 0x22]), 'flac', 'audio/flac'],
  ])('recognises %s', (_name, head, extension, contentType) => {
    expect(sniffAudioFormat(head)).toEqual({ extension, contentType });
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['zeros', Buffer.alloc(12)],
    ['XML error document', bytes('<?xml version="1.0"?><Error>')],
    ['JSON error document', bytes('{"error":"not found"}')],
    ['HTML', bytes('<!DOCTYPE html><html>')],
    ['RIFF that is not WAVE', bytes('RIFF', [0, 0, 0, 0], 'AVI LIST')],
    ['truncated RIFF', bytes('RIFF')],
    ['lone 0xff', bytes([0xff])],
    ['0xff without frame sync', bytes([0xff, 0xd8, 0xff, 0xe0])],
    ['PK but not a local file header', bytes('PK', [5, 6, 0, 0])],
    ['random text', bytes('hello world!')],
  ])('returns undefined for %s', (_name, head) => {
    expect(sniffAudioFormat(head)).toBeUndefined();
  });
});

const u32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return [...buffer];
};
const u16 = (value: number) => [value & 0xff, value >> 8];
const fmt = bytes('fmt ', u32(16), u16(1), u16(1), u32(8000), u32(16000), u16(2), u16(16));

describe('declaredLength: what the header says the file is at least', () => {
  it('WAV: the RIFF size plus its 8-byte chunk header', () => {
    expect(declaredLength(bytes('RIFF', u32(1_000_036), 'WAVE', fmt, 'data', u32(1_000_000)))).toEqual({
      bytes: 1_000_044,
      field: 'RIFF size',
    });
  });

  it.each([
    ['0', 0],
    ['0xFFFFFFFF', 0xffffffff],
  ])(
    'WAV with a streaming placeholder (%s) RIFF size: the end of the data chunk, past other chunks',
    (_name, placeholder) => {
      // A LIST chunk of odd length (padded) before `data`.
      const list = bytes('LIST', u32(5), 'INFOx', [0]);
      expect(declaredLength(bytes('RIFF', u32(placeholder), 'WAVE', fmt, list, 'data', u32(48_000)))).toEqual(
        {
          bytes: 12 + 24 + 14 + 8 + 48_000,
          field: 'data chunk',
        },
      );
      // Both sizes unknown, or the data chunk beyond the bytes read: nothing declared.
      expect(
        declaredLength(bytes('RIFF', u32(placeholder), 'WAVE', fmt, 'data', u32(0xffffffff))),
      ).toBeUndefined();
      expect(declaredLength(bytes('RIFF', u32(placeholder), 'WAVE', fmt))).toBeUndefined();
    },
  );

  it("ZIP: exactly the simulator's single stored entry with its central directory", () => {
    const sim = new VoipbinSimulator({ recordings: sampleRecordings(1) });
    const zip = sim.zipOf('rec-00000');
    expect(declaredLength(zip.subarray(0, 64))).toEqual({ bytes: zip.length, field: 'ZIP entry' });
    // Sizes deferred to a data descriptor (flag bit 3): nothing declared up front.
    const deferred = Buffer.from(zip.subarray(0, 64));
    deferred.writeUInt16LE(0x08, 6);
    expect(declaredLength(deferred)).toBeUndefined();
  });

  it('MP3: an ID3v2 tag declares its own (syncsafe) length; bare frames declare none', () => {
    expect(declaredLength(bytes('ID3', [4, 0, 0], [0, 0, 0x02, 0x01]))).toEqual({
      bytes: 10 + 257,
      field: 'ID3v2 tag',
    });
    expect(declaredLength(bytes('ID3', [4, 0, 0x10], [0, 0, 0, 0x7f]))).toEqual({
      bytes: 10 + 127 + 10,
      field: 'ID3v2 tag',
    });
    expect(declaredLength(bytes([0xff, 0xfb, 0x90, 0x64], [0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
  });

  it.each([
    ['Ogg', bytes('OggS', [0, 2, 0, 0, 0, 0, 0, 0])],
    ['FLAC', bytes('fLaC', [0, 0, 0, 0x22, 0, 0, 0, 0])],
    ['not audio', bytes('<?xml version="1.0"?>')],
  ])('%s: no declared length', (_name, head) => {
    expect(declaredLength(head)).toBeUndefined();
  });
});
