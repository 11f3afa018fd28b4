/**
 * Time normalization: every provider date and duration format comes out as UTC ISO-8601 or
 * seconds, whatever the host's TZ. The adapters read provider fields with it; the query API and
 * the CLI read their `since`/`until` with it.
 */
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
