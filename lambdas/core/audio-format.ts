/** What the first bytes of an audio file say it is. */
export interface AudioFormat {
  extension: 'wav' | 'mp3' | 'zip' | 'ogg' | 'flac';
  contentType: string;
}

/** Bytes needed to recognise every supported format. */
export const SNIFF_BYTES = 12;

export function sniffAudioFormat(head: Buffer): AudioFormat | undefined {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE')
    return { extension: 'wav', contentType: 'audio/wav' };
  if (ascii(0, 3) === 'ID3') return { extension: 'mp3', contentType: 'audio/mpeg' };
  // MPEG audio frame sync: 11 set bits.
  if (head.length >= 2 && head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0) {
    return { extension: 'mp3', contentType: 'audio/mpeg' };
  }
  // VoIPBin may hand a ZIP of the recording; it is stored as given and flagged in the index.
  if (ascii(0, 4) === 'PK\u0003\u0004') return { extension: 'zip', contentType: 'application/zip' };
  if (ascii(0, 4) === 'OggS') return { extension: 'ogg', contentType: 'audio/ogg' };
  if (ascii(0, 4) === 'fLaC') return { extension: 'flac', contentType: 'audio/flac' };
  return undefined;
}
