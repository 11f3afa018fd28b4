/**
 * A webhook body is the sender's text: it can hold card numbers, names, tokens. The intake answers
 * a WebhookParseError's message in its 400 and logs it, so no adapter may copy the body (or a
 * value from it) into that message; it says the body's size, content type and what was expected.
 */
import { describe, expect, it } from 'vitest';
import type { AccountOf } from '../../lambdas/core/config.ts';
import { WebhookParseError } from '../../lambdas/core/errors.ts';
import type { ProviderName } from '../../lambdas/core/recording.ts';
import { createAdapter } from '../../lambdas/providers/index.ts';
import { describeBody, parseWebhookJson } from '../../lambdas/providers/parse.ts';
import { FAST } from '../helpers/retry.ts';
import { accountOf, simulatorOf } from '../helpers/simulators.ts';

/** What must never show: a card number, a name, token values. */
const MARKERS = ['4111111111111111', '4111', 'Jane', 'Doe', 'tok_live', 'abc12', 'hunter2'];
const FORM = 'card=4111111111111111&name=Jane+Doe&token=abc12';
const BROKEN_JSON = '{"token":"tok_live_hunter2","card":"4111111111111111",}';
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** An adapter for the provider; parseWebhook never calls the (unstarted) simulator. */
function adapterOf(provider: ProviderName) {
  const sim = simulatorOf(provider, 0);
  sim.baseUrl = 'http://127.0.0.1:9';
  const account = accountOf(provider, sim, `${provider}-hooks`) as AccountOf<typeof provider>;
  return createAdapter(account, FAST);
}

interface Case {
  name: string;
  body: string;
  headers?: Record<string, string>;
  /** What the message must still say, besides naming the account. */
  says: RegExp[];
}

const bytes = (body: string) => new RegExp(`\\b${Buffer.byteLength(body)} bytes\\b`);

const CASES: Record<ProviderName, Case[]> = {
  bandwidth: [
    {
      name: 'form fields',
      body: FORM,
      headers: FORM_TYPE,
      says: [/not JSON/, bytes(FORM), /form-urlencoded/],
    },
    { name: 'broken JSON', body: BROKEN_JSON, headers: JSON_TYPE, says: [/not JSON/, /line 1, column \d+/] },
    { name: 'a JSON number', body: '4111111111111111', says: [/not a JSON object \(it is a number\)/] },
    { name: 'a JSON string', body: '"tok_live_hunter2"', says: [/not a JSON object \(it is a string\)/] },
    {
      name: 'another account',
      body: '{"eventType":"recordingAvailable","accountId":"4111111111111111","callId":"c-Jane","recordingId":"tok_live_1"}',
      says: [/another Bandwidth account/, /accountId/],
    },
    {
      name: 'another account (conference)',
      body: '{"eventType":"conferenceRecordingAvailable","accountId":"4111111111111111","conferenceId":"Jane","recordingId":"tok_live_1"}',
      says: [/another Bandwidth account/],
    },
  ],
  dialogtech: [
    {
      name: 'broken JSON',
      body: BROKEN_JSON,
      headers: JSON_TYPE,
      says: [/not valid JSON/, bytes(BROKEN_JSON), /application\/json/, /expected/],
    },
    { name: 'a JSON string', body: '"tok_live_hunter2"', headers: JSON_TYPE, says: [/not an object/] },
    { name: 'form fields without a sid', body: FORM, says: [/no "sid"/] },
  ],
  restcomm: [
    {
      name: 'broken JSON',
      body: BROKEN_JSON,
      headers: JSON_TYPE,
      says: [/not valid JSON/, bytes(BROKEN_JSON)],
    },
    {
      name: 'plain text',
      body: 'card 4111111111111111 for Jane Doe',
      headers: { 'content-type': 'text/plain' },
      says: [/neither form fields nor JSON/, bytes('card 4111111111111111 for Jane Doe'), /text\/plain/],
    },
    {
      name: 'a JSON list of strings',
      body: '["tok_live_hunter2"]',
      says: [/not an object \(it is a string\)/],
    },
    {
      name: 'a RecordingUrl that is no sid',
      body: 'RecordingUrl=http%3A%2F%2Fhost%2Frecordings%2F4111111111111111%20Jane.wav',
      says: [/does not end in a recording sid/, /characters/],
    },
    {
      name: 'a RecordingUrl with a broken escape',
      body: 'RecordingUrl=http%3A%2F%2Fhost%2Frecordings%2FJane%25E0%25A4%25A.wav',
      says: [/malformed %-escape/],
    },
    {
      name: 'a RecordingUrl that is no URL',
      body: 'RecordingUrl=http%3A%2F%2F%5B4111111111111111%5D%3Atok_live',
      says: [/RecordingUrl is not a URL/],
    },
    { name: 'form fields without a RecordingUrl', body: FORM, says: [/no RecordingUrl/] },
  ],
  voipbin: [
    {
      name: 'form fields',
      body: FORM,
      headers: FORM_TYPE,
      says: [/not JSON/, bytes(FORM), /form-urlencoded/, /expected a JSON event/],
    },
    { name: 'broken JSON', body: BROKEN_JSON, headers: JSON_TYPE, says: [/not JSON/, /line 1, column \d+/] },
    { name: 'an event without a type', body: '{"token":"tok_live_hunter2"}', says: [/"type"/] },
    {
      name: 'a finished recording without an id',
      body: '{"type":"recording_finished","data":{"name":"Jane Doe"}}',
      says: [/"data.id"/],
    },
  ],
  infobip: [
    {
      name: 'form fields',
      body: FORM,
      headers: FORM_TYPE,
      says: [/not JSON/, bytes(FORM), /form-urlencoded/],
    },
    {
      name: 'broken JSON',
      body: BROKEN_JSON,
      headers: JSON_TYPE,
      says: [/not JSON/, /expected a file entry/],
    },
    { name: 'an object without files', body: '{"token":"tok_live_hunter2"}', says: [/neither a "url"/] },
    {
      name: 'a file without a url',
      body: '{"files":[{"name":"Jane Doe","token":"tok_live_hunter2"}]}',
      says: [/file #1 has no "url"/],
    },
  ],
};

const table = Object.entries(CASES).flatMap(([provider, cases]) =>
  cases.map((entry) => [provider as ProviderName, entry.name, entry] as const),
);

describe('webhook parse errors never quote the body', () => {
  it.each(table)('%s: %s', (provider, _name, { body, headers = {}, says }) => {
    let caught: unknown;
    try {
      adapterOf(provider).parseWebhook({ body, headers });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebhookParseError);
    const message = (caught as Error).message;
    expect(message).toContain(`${provider} account "${provider}-hooks"`);
    for (const marker of MARKERS) expect(message, message).not.toContain(marker);
    for (const pattern of says) expect(message).toMatch(pattern);
  });

  it('does not repeat a content type it does not know', () => {
    const adapter = adapterOf('bandwidth');
    const headers = { 'content-type': 'text/4111111111111111; name=Jane' };
    expect(() => adapter.parseWebhook({ body: FORM, headers })).toThrow(/an unlisted content type/);
    expect(() => adapter.parseWebhook({ body: FORM, headers })).not.toThrow(/4111|Jane/);
  });
});

describe('describeBody and parseWebhookJson', () => {
  it('gives the size in bytes and a known content type, never the text', () => {
    expect(describeBody('é=1', 'application/x-www-form-urlencoded; charset=utf-8')).toBe(
      '4 bytes, application/x-www-form-urlencoded',
    );
    expect(describeBody('x', undefined)).toBe('1 byte, no content type');
    expect(describeBody('', 'Application/JSON')).toBe('0 bytes, application/json');
  });

  const context = {
    who: 'w',
    problem: 'it is not JSON',
    contentType: 'application/json',
    expected: 'an object',
  };

  it.each([
    ['a token', 'token=abc12', 'w: it is not JSON (11 bytes, application/json; expected an object)'],
    [
      'a trailing comma',
      '{"a":"abc12",\n"b":1,}',
      'w: it is not JSON (21 bytes, application/json; expected an object; line 2, column 7)',
    ],
    [
      'a cut body',
      '{"a":"abc12',
      'w: it is not JSON (11 bytes, application/json; expected an object; line 1, column 12)',
    ],
    [
      'a cut list',
      '[1,',
      'w: it is not JSON (3 bytes, application/json; expected an object; unexpected end of body)',
    ],
    ['nothing', '', 'w: it is not JSON (0 bytes, application/json; expected an object)'],
  ])('reports %s by size, expectation and place', (_name, text, message) => {
    expect(() => parseWebhookJson(text, context)).toThrow(new WebhookParseError(message));
  });

  it('returns what parses', () => {
    expect(parseWebhookJson('{"a":[1]}', context)).toEqual({ a: [1] });
  });
});
