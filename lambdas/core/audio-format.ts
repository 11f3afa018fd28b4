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

/** How much of a file's start the declared-length check reads: a WAV's chunks before `data`. */
export const DECLARED_LENGTH_HEAD_BYTES = 4096;

/** What a file's own header says its length is at least, and which field says so. */
export interface DeclaredLength {
  bytes: number;
  /** `RIFF size`, `data chunk`, `ID3v2 tag`, `ZIP entry`. */
  field: string;
}

/** 0 and 0xFFFFFFFF are what streaming encoders write before they know the size. */
const PLACEHOLDER_SIZES = new Set([0, 0xffffffff]);

/**
 * The least number of bytes the file's header declares, so a body that ends cleanly but short
 * (no Content-Length, close-delimited or chunked) can be told from a whole one:
 * - WAV: the RIFF size + 8; if that is a placeholder, the end of the `data` chunk.
 * - MP3 with an ID3v2 tag: the tag's own length (the audio follows it).
 * - ZIP: the first entry's local header, name, extra field and compressed data, plus the
 *   central directory entry and end record that must follow (none when the sizes are deferred
 *   to a data descriptor or ZIP64).
 * - Ogg, FLAC and bare MPEG frames declare no length: undefined.
 */
export function declaredLength(head: Buffer): DeclaredLength | undefined {
  const format = sniffAudioFormat(head);
  if (format?.extension === 'wav') return wavLength(head);
  if (format?.extension === 'zip') return zipLength(head);
  if (format?.extension === 'mp3' && head.length >= 10 && head.toString('latin1', 0, 3) === 'ID3') {
    const size = syncsafe(head.subarray(6, 10));
    if (size === undefined) return undefined;
    const footer = ((head[5] ?? 0) & 0x10) !== 0 ? 10 : 0;
    return { bytes: 10 + size + footer, field: 'ID3v2 tag' };
  }
  return undefined;
}

function wavLength(head: Buffer): DeclaredLength | undefined {
  const riff = head.readUInt32LE(4);
  if (!PLACEHOLDER_SIZES.has(riff)) return { bytes: riff + 8, field: 'RIFF size' };
  // Walk the chunks after `WAVE` to the `data` chunk, as far as the head reaches.
  for (let offset = 12; offset + 8 <= head.length; ) {
    const id = head.toString('latin1', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    if (id === 'data') {
      return PLACEHOLDER_SIZES.has(size) ? undefined : { bytes: offset + 8 + size, field: 'data chunk' };
    }
    // Chunks are padded to an even size.
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

function zipLength(head: Buffer): DeclaredLength | undefined {
  if (head.length < 30) return undefined;
  const flags = head.readUInt16LE(6);
  const compressed = head.readUInt32LE(18);
  if ((flags & 0x08) !== 0 || compressed === 0xffffffff) return undefined;
  const nameLength = head.readUInt16LE(26);
  const extraLength = head.readUInt16LE(28);
  // Local header + name + extra + data, then at least a central entry (46 + name) and the
  // end-of-central-directory record (22).
  return { bytes: 30 + nameLength + extraLength + compressed + 46 + nameLength + 22, field: 'ZIP entry' };
}

/** ID3v2 sizes use 7 bits per byte; a set high bit means the tag is not ID3v2 at all. */
function syncsafe(bytes: Buffer): number | undefined {
  let size = 0;
  for (const byte of bytes) {
    if (byte & 0x80) return undefined;
    size = size * 128 + byte;
  }
  return size;
}
