/**
 * Parsing helpers shared by the adapters: provider date and duration formats, XML bodies and
 * array-or-object JSON. Every date comes out as UTC ISO-8601, whatever the host's TZ.
 */
import { XMLParser } from 'fast-xml-parser';
import { DateTime, Duration } from 'luxon';

/**
 * Parses the timestamp formats the providers use and returns UTC ISO-8601 with milliseconds:
 * - ISO-8601 with `Z`, `+02:00` or `+0000` (Infobip's colon-less offset)
 * - RFC 2822 (`Mon, 6 Jan 2014 08:51:07 +0900`, Restcomm)
 * - zone-less `YYYY-MM-DD HH:MM:SS[.ffffff]` (DialogTech, VoIPBin), read in `zone`
 * Returns undefined for empty values (`""`, `null`, the string `"null"`) and for unparseable ones.
 */
export function toUtcIso(value: unknown, zone = 'UTC'): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '' || text === 'null') return undefined;
  const candidates = [
    () => DateTime.fromISO(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'), { zone, setZone: true }),
    () => DateTime.fromRFC2822(text, { setZone: true }),
    () => DateTime.fromSQL(text, { zone }),
  ];
  for (const parse of candidates) {
    const parsed = parse();
    if (parsed.isValid) return parsed.toUTC().toISO({ suppressMilliseconds: false }) ?? undefined;
  }
  return undefined;
}

/** `PT1M2.5S` (Bandwidth) → 62.5 seconds. */
export function isoDurationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const duration = Duration.fromISO(value);
  return duration.isValid ? duration.as('seconds') : undefined;
}

/** A number that may arrive as a string (`"14.70275"`); undefined when it is not numeric. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** A string field, with the providers' empty markers (`""`, `null`, `"null"`) as undefined. */
export function toText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  return text === '' || text === 'null' ? undefined : text;
}

/** XML or JSON collections: one element may come as an object, none as undefined or "". */
export function asArray<T>(value: T | T[] | undefined | null | ''): T[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  // Ids such as DialogTech's `0932654521723728` must stay strings, not lose digits as numbers.
  parseTagValue: false,
  trimValues: true,
});

/** Parses an XML document into plain objects; throws on anything that is not well-formed XML. */
export function parseXml(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (!trimmed.startsWith('<')) throw new Error('body is not XML');
  const parsed = xmlParser.parse(trimmed, true) as Record<string, unknown>;
  return parsed;
}

export function looksLikeXml(text: string): boolean {
  return text.trimStart().startsWith('<');
}
