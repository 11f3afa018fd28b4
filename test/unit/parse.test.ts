import { describe, expect, it } from 'vitest';
import { isoDurationSeconds, toUtcIso } from '../../lambdas/core/time.ts';
import { asArray, looksLikeXml, parseXml, toNumber, toText } from '../../lambdas/providers/parse.ts';

describe('toUtcIso', () => {
  it.each([
    ['2019-10-21T16:44:40.928Z', '2019-10-21T16:44:40.928Z'],
    ['2019-10-21T18:44:40.928+02:00', '2019-10-21T16:44:40.928Z'],
    ['2019-10-21T16:44:40.928+0000', '2019-10-21T16:44:40.928Z'],
    ['2019-10-21T16:44:40-0530', '2019-10-21T22:14:40.000Z'],
    ['Mon, 6 Jan 2014 08:51:07 +0900', '2014-01-05T23:51:07.000Z'],
    ['  2019-10-21T16:44:40Z  ', '2019-10-21T16:44:40.000Z'],
  ])('%s → %s (an explicit offset wins over the zone)', (input, expected) => {
    expect(toUtcIso(input)).toBe(expected);
    expect(toUtcIso(input, 'Asia/Tokyo')).toBe(expected);
  });

  it('reads zone-less SQL-style timestamps in the given IANA zone', () => {
    expect(toUtcIso('2024-01-15 10:00:00', 'America/Chicago')).toBe('2024-01-15T16:00:00.000Z');
    expect(toUtcIso('2024-07-15 10:00:00', 'America/Chicago')).toBe('2024-07-15T15:00:00.000Z');
    expect(toUtcIso('2024-07-01 12:00:00', 'Europe/Berlin')).toBe('2024-07-01T10:00:00.000Z');
    // Microseconds are cut to milliseconds.
    expect(toUtcIso('2024-01-15 10:00:00.123456', 'America/Chicago')).toBe('2024-01-15T16:00:00.123Z');
    // Zone-less ISO with a T is read in the zone too.
    expect(toUtcIso('2024-07-01T12:00:00', 'Europe/Berlin')).toBe('2024-07-01T10:00:00.000Z');
  });

  it('defaults to UTC, never the host zone', () => {
    expect(toUtcIso('2024-11-03 01:30:00')).toBe('2024-11-03T01:30:00.000Z');
    expect(toUtcIso('2024-03-10 02:30:00.5')).toBe('2024-03-10T02:30:00.500Z');
  });

  it('handles the instants around a DST change in the account zone', () => {
    // Spring forward in Chicago at 02:00 CST → 03:00 CDT.
    expect(toUtcIso('2024-03-10 01:59:59', 'America/Chicago')).toBe('2024-03-10T07:59:59.000Z');
    expect(toUtcIso('2024-03-10 03:00:00', 'America/Chicago')).toBe('2024-03-10T08:00:00.000Z');
    // 02:30 does not exist that night; it must still come out as a valid instant in the gap's vicinity.
    const gap = toUtcIso('2024-03-10 02:30:00', 'America/Chicago');
    expect(['2024-03-10T07:30:00.000Z', '2024-03-10T08:30:00.000Z']).toContain(gap);
    // Fall back at 02:00 CDT → 01:00 CST: 00:59 and 02:00 are unambiguous.
    expect(toUtcIso('2024-11-03 00:59:00', 'America/Chicago')).toBe('2024-11-03T05:59:00.000Z');
    expect(toUtcIso('2024-11-03 02:00:00', 'America/Chicago')).toBe('2024-11-03T08:00:00.000Z');
    // 01:30 happens twice: either reading is an instant that really was 01:30 in Chicago.
    const twice = toUtcIso('2024-11-03 01:30:00', 'America/Chicago');
    expect(['2024-11-03T06:30:00.000Z', '2024-11-03T07:30:00.000Z']).toContain(twice);
  });

  it('returns undefined for empty markers, non-strings and garbage', () => {
    for (const value of [
      '',
      '   ',
      'null',
      null,
      undefined,
      1_700_000_000,
      {},
      'garbage',
      '2024-13-45 99:00:00',
    ]) {
      expect(toUtcIso(value, 'America/Chicago')).toBeUndefined();
    }
  });
});

describe('isoDurationSeconds', () => {
  it('converts ISO-8601 durations to seconds', () => {
    expect(isoDurationSeconds('PT1M2.5S')).toBe(62.5);
    expect(isoDurationSeconds('PT0S')).toBe(0);
    expect(isoDurationSeconds('PT1H')).toBe(3600);
    expect(isoDurationSeconds('PT12.345S')).toBeCloseTo(12.345, 6);
  });

  it('returns undefined for anything else', () => {
    for (const value of ['', 'nope', '62.5', 62.5, null, undefined]) {
      expect(isoDurationSeconds(value)).toBeUndefined();
    }
  });
});

describe('toNumber', () => {
  it('accepts finite numbers and numeric strings', () => {
    expect(toNumber(3)).toBe(3);
    expect(toNumber('14.70275')).toBe(14.70275);
    expect(toNumber(' 42 ')).toBe(42);
    expect(toNumber('0')).toBe(0);
  });

  it('rejects non-numeric and non-finite values', () => {
    for (const value of [
      '',
      '  ',
      'abc',
      '12px',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      'Infinity',
      null,
      true,
    ]) {
      expect(toNumber(value)).toBeUndefined();
    }
  });
});

describe('toText', () => {
  it('trims and stringifies', () => {
    expect(toText('  hello ')).toBe('hello');
    expect(toText(42)).toBe('42');
    expect(toText(0)).toBe('0');
    expect(toText('nullable')).toBe('nullable');
  });

  it('maps the providers empty markers to undefined', () => {
    for (const value of [null, undefined, '', '   ', 'null', ' null ']) expect(toText(value)).toBeUndefined();
  });
});

describe('asArray', () => {
  it('wraps one element, keeps arrays and empties nothing', () => {
    expect(asArray({ a: 1 })).toEqual([{ a: 1 }]);
    const list = [1, 2];
    expect(asArray(list)).toBe(list);
    expect(asArray(undefined)).toEqual([]);
    expect(asArray(null)).toEqual([]);
    expect(asArray('')).toEqual([]);
    expect(asArray(0)).toEqual([0]);
  });
});

describe('parseXml', () => {
  it('keeps long digit strings and leading zeros as strings', () => {
    const parsed = parseXml(`
      <?xml version="1.0"?>
      <Response><Call><id>0932654521723728</id><big>12345678901234567890</big><n> 007 </n></Call></Response>`);
    expect(parsed.Response).toEqual({
      Call: { id: '0932654521723728', big: '12345678901234567890', n: '007' },
    });
  });

  it('turns repeated elements into arrays and ignores attributes', () => {
    const parsed = parseXml('<list><item kind="a">1</item><item>2</item></list>') as {
      list: { item: string[] };
    };
    expect(parsed.list.item).toEqual(['1', '2']);
  });

  it.each([['<a><b></a>'], ['<a>'], ['<a></b>'], ['not xml'], ['{"json": true}'], ['']])(
    'rejects malformed input %j',
    (text) => {
      expect(() => parseXml(text)).toThrow();
    },
  );
});

describe('looksLikeXml', () => {
  it('checks the first non-blank character', () => {
    expect(looksLikeXml('  \n<a/>')).toBe(true);
    expect(looksLikeXml('{"a":1}')).toBe(false);
    expect(looksLikeXml('')).toBe(false);
  });
});
