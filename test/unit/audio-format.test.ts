import { describe, expect, it } from 'vitest';
import { SNIFF_BYTES, sniffAudioFormat } from '../../lambdas/core/audio-format.ts';

const bytes = (...parts: (string | number[])[]) =>
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
