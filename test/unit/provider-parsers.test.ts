/**
 * The adapters' pure parsers and shared helpers, on bodies written here: no simulator, no
 * request. The transport is only the message context (who, redaction); nothing is sent.
 */
import { describe, expect, it } from 'vitest';
import { ProviderResponseError, WebhookParseError } from '../../lambdas/core/errors.ts';
import { definedOnly } from '../../lambdas/core/recording.ts';
import { goneRecording, windowBounds } from '../../lambdas/providers/adapter.ts';
import { BANDWIDTH_LIST_CAP, bandwidthItems, nextMinStartTime } from '../../lambdas/providers/bandwidth.ts';
import { webhookCalls } from '../../lambdas/providers/dialogtech.ts';
import { ProviderHttp, type TextResponse } from '../../lambdas/providers/http.ts';
import { asObject, isObject } from '../../lambdas/providers/parse.ts';
import {
  parseListPage,
  parseRecording,
  recordingSidFromUrl,
  webhookFields,
} from '../../lambdas/providers/restcomm.ts';

const SECRET = 'auth-token-77';

function context(provider: 'bandwidth' | 'restcomm' | 'dialogtech', baseUrl = 'http://127.0.0.1:9') {
  return new ProviderHttp({ accountId: `${provider}-main`, provider, baseUrl, secrets: [SECRET] });
}

function answer(text: string, contentType = 'application/json'): TextResponse {
  return { status: 200, headers: { 'content-type': contentType }, text, contentType };
}

/** The error a parser throws, for checks on its class and message together. */
function thrown(parse: () => unknown): Error {
  try {
    parse();
  } catch (error) {
    return error as Error;
  }
  throw new Error('the parser did not throw');
}

describe('Bandwidth window step (nextMinStartTime)', () => {
  const http = context('bandwidth');
  const at = (second: number) => ({ startTime: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString() });
  const full = (first: number, last: number) => [
    at(first),
    ...Array.from({ length: BANDWIDTH_LIST_CAP - 2 }, () => at(first)),
    at(last),
  ];

  it('continues from the last start time of a full answer, inclusive', () => {
    expect(nextMinStartTime(http, full(0, 30), undefined)).toBe('2026-01-01T00:00:30.000Z');
    expect(nextMinStartTime(http, full(10, 30), '2026-01-01T00:00:10.000Z')).toBe('2026-01-01T00:00:30.000Z');
  });

  it('reads the start times in any offset, as UTC', () => {
    const records = [{ startTime: '2026-01-01T01:00:00+01:00' }, { startTime: '2026-01-01T00:00:05-00:00' }];
    expect(nextMinStartTime(http, records, undefined)).toBe('2026-01-01T00:00:05.000Z');
  });

  it('refuses an answer that cannot move the window on', () => {
    const undated = thrown(() => nextMinStartTime(http, [at(0), {}], undefined));
    expect(undated).toBeInstanceOf(ProviderResponseError);
    expect(undated.message).toMatch(/^bandwidth account "bandwidth-main": .* has no startTime/);
    expect(thrown(() => nextMinStartTime(http, full(7, 7), undefined)).message).toMatch(
      /may share that instant/,
    );
    expect(thrown(() => nextMinStartTime(http, full(0, 5), '2026-01-01T00:00:05.000Z')).message).toMatch(
      /not sorted oldest first/,
    );
  });
});

describe('Bandwidth answers (bandwidthItems)', () => {
  const http = context('bandwidth');
  const url = new URL('http://127.0.0.1:9/api/v2/accounts/99/recordings');

  it('takes a list, and a single recording as a list of one', () => {
    expect(bandwidthItems(http, [{ recordingId: 'r1' }, { callId: 'c2' }], url)).toEqual([
      { recordingId: 'r1' },
      { callId: 'c2' },
    ]);
    expect(bandwidthItems(http, { recordingId: 'r1' }, url)).toEqual([{ recordingId: 'r1' }]);
  });

  it('refuses a document that is not recording metadata, naming the request', () => {
    for (const json of [{ error: 'Forbidden' }, ['r1'], null]) {
      const error = thrown(() => bandwidthItems(http, json, url));
      expect(error).toBeInstanceOf(ProviderResponseError);
      expect(error.message).toContain(`answered ${url.href} with JSON that is not recording metadata`);
    }
  });
});

describe('Restcomm listing pages (parseListPage)', () => {
  const http = context('restcomm', 'http://127.0.0.1:9/restcomm');
  const url = new URL('http://127.0.0.1:9/restcomm/2012-04-24/Accounts/AC1/Recordings.json');

  it('reads the JSON page and its next_page_uri', () => {
    const page = parseListPage(
      http,
      answer(JSON.stringify({ recordings: [{ sid: 'RE1', call_sid: 'CA1' }], next_page_uri: '/next' })),
      url,
    );
    expect(page).toEqual({
      recordings: [{ fields: { sid: 'RE1', call_sid: 'CA1' }, raw: { sid: 'RE1', call_sid: 'CA1' } }],
      nextPageUri: '/next',
      // No `limit` in the answer: Restcomm's default.
      limit: 10_000,
    });
  });

  it('reads a bare array as a last page', () => {
    expect(parseListPage(http, answer('[{"sid":"RE1"}]'), url).nextPageUri).toBeNull();
  });

  it('reads the XML page: field names as in JSON, the link from its attribute', () => {
    const xml = `<RestcommResponse><Recordings nextpageuri="/2012-04-24/p1">
      <Recording><Sid>RE1</Sid><DateCreated>Mon, 6 Jan 2014 08:51:07 +0900</DateCreated></Recording>
    </Recordings></RestcommResponse>`;
    const page = parseListPage(http, answer(xml, 'application/xml'), url);
    expect(page.nextPageUri).toBe('/2012-04-24/p1');
    expect(page.recordings.map((entry) => entry.fields)).toEqual([
      { sid: 'RE1', date_created: 'Mon, 6 Jan 2014 08:51:07 +0900' },
    ]);
    expect(parseListPage(http, answer('<RestcommResponse><Recordings/></RestcommResponse>'), url)).toEqual({
      recordings: [],
      nextPageUri: undefined,
      limit: 10_000,
    });
  });

  it.each([
    ['JSON without a list', '{"page": 0}', /JSON without a "recordings" list/],
    ['a recording that is not an object', '{"recordings": ["RE1"]}', /a recording that is not an object/],
    ['XML without <Recordings>', '<RestcommResponse/>', /XML without <Recordings>/],
    ['broken XML', '<RestcommResponse><Recordings>', /a body that is not well-formed XML/],
  ])('refuses %s', (_name, text, message) => {
    const error = thrown(() => parseListPage(http, answer(text), url));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toMatch(message);
  });

  it('reads one recording resource in either form', () => {
    expect(parseRecording(http, answer('{"sid":"RE1"}'), url).fields).toEqual({ sid: 'RE1' });
    expect(
      parseRecording(
        http,
        answer('<RestcommResponse><Recording><Sid>RE2</Sid></Recording></RestcommResponse>'),
        url,
      ).fields,
    ).toEqual({ sid: 'RE2' });
  });
});

describe('Restcomm callbacks (webhookFields, recordingSidFromUrl)', () => {
  const http = context('restcomm');

  it('reads form fields, and the same fields as JSON with values as strings', () => {
    expect(webhookFields(http, 'CallSid=CA1&RecordingDuration=4', '')).toEqual([
      { CallSid: 'CA1', RecordingDuration: '4' },
    ]);
    expect(webhookFields(http, '[{"CallSid":"CA1","RecordingDuration":4,"From":null}]', '')).toEqual([
      { CallSid: 'CA1', RecordingDuration: '4', From: '' },
    ]);
  });

  it.each([
    ['an empty body', '  ', /callback body is empty/],
    ['broken JSON', '{"CallSid":', /not valid JSON/],
    ['a JSON list of non-objects', '[1]', /callback JSON is not an object/],
    ['plain text', 'hello there', /neither form fields nor JSON/],
  ])('refuses %s', (_name, body, message) => {
    const error = thrown(() => webhookFields(http, body, 'text/plain'));
    expect(error).toBeInstanceOf(WebhookParseError);
    expect(error.message).toMatch(message);
  });

  it('takes the sid from the file name of any RecordingUrl', () => {
    expect(recordingSidFromUrl(http, 'https://s3.example/bucket/RE0123.wav')).toBe('RE0123');
    expect(recordingSidFromUrl(http, '\\https://$DOMAIN/restcomm/recordings/RE9.mp3')).toBe('RE9');
    expect(thrown(() => recordingSidFromUrl(http, 'http://host/recordings/'))).toBeInstanceOf(
      WebhookParseError,
    );
  });
});

describe('DialogTech post-call webhooks (webhookCalls)', () => {
  const http = context('dialogtech');
  const request = (body: string, contentType?: string) => ({
    body,
    headers: { 'content-type': contentType },
  });

  it('reads form fields, a JSON object and a JSON list alike', () => {
    expect(webhookCalls(http, request('sid=0932&dnis=8475551234'))).toEqual([
      { sid: '0932', dnis: '8475551234' },
    ]);
    expect(webhookCalls(http, request('{"sid":"0932","minutes":5.3}'))).toEqual([
      { sid: '0932', minutes: 5.3 },
    ]);
    expect(webhookCalls(http, request('[{"sid":"1"},{"sid":"2"}]', 'application/json'))).toHaveLength(2);
  });

  it.each([
    ['an empty body', ' ', /webhook body is empty/],
    ['broken JSON', '{"sid": "09', /not valid JSON/],
    ['an empty JSON list', '[]', /not an object \(or a list of them\)/],
    ['a JSON string', '"sid"', /not an object/],
  ])('refuses %s', (_name, body, message) => {
    const error = thrown(() => webhookCalls(http, request(body, 'application/json')));
    expect(error).toBeInstanceOf(WebhookParseError);
    expect(error.message).toMatch(message);
  });
});

describe('shared adapter helpers', () => {
  it('holds start times from since, inclusive, to until, exclusive, and the undated', () => {
    const bounds = windowBounds({ since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00+00:00' });
    expect(bounds).toMatchObject({ since: Date.UTC(2026, 0, 1), until: Date.UTC(2026, 0, 2) });
    const held = [
      '2025-12-31T23:59:59.999Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
      undefined,
    ];
    expect(held.map((startedAt) => bounds.contains(startedAt))).toEqual([false, true, false, true]);
    expect(windowBounds({}).contains('1970-01-01T00:00:00.000Z')).toBe(true);
    expect(() => windowBounds({ until: 'yesterday' })).toThrow(/list window "until" is not a date/);
  });

  it('describes a gone recording of the account, its call id kept', () => {
    const ref = { accountId: 'bw', provider: 'bandwidth', providerRecordingId: 'r1', callId: 'c1' } as const;
    expect(goneRecording({ id: 'bw', provider: 'bandwidth' }, ref)).toEqual({
      ...ref,
      direction: 'unknown',
      readiness: 'gone',
      raw: null,
    });
  });

  it('tells JSON objects from null, arrays and scalars', () => {
    expect([{}, { a: 1 }, [], null, 'x', 1].map(isObject)).toEqual([true, true, false, false, false, false]);
    expect(asObject({ a: 1 })).toEqual({ a: 1 });
    expect(asObject([1])).toBeUndefined();
  });

  it('drops only the undefined fields, so a spread keeps what another source knows', () => {
    const known = { from: '+1555', to: '+1666', durationSec: 3 };
    expect({ ...known, ...definedOnly({ from: undefined, to: '+1777', durationSec: 0 }) }).toEqual({
      from: '+1555',
      to: '+1777',
      durationSec: 0,
    });
  });
});
