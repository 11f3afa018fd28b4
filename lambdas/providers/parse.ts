/**
 * Parsing helpers shared by the adapters: numbers and strings in the providers' forms, XML
 * bodies, array-or-object JSON and the object guard, and what may be said of a webhook body that
 * does not parse. Dates are the core's (`core/time.ts`).
 */
import { XMLParser } from 'fast-xml-parser';
import { jsonErrorPlace } from '../core/config.ts';
import { WebhookParseError } from '../core/errors.ts';

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

/** A JSON object (not null, not an array), whose fields may then be read. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as an object to read fields of, or undefined when it is none (`a?.b` chains). */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return isObject(value) ? value : undefined;
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

/**
 * Content types a webhook message may name. A header is the sender's text like the body, so
 * any other value is not repeated (`text/4111111111111111` is a valid media type).
 */
const NAMED_CONTENT_TYPES = new Set([
  'application/json',
  'application/x-www-form-urlencoded',
  'application/xml',
  'application/octet-stream',
  'multipart/form-data',
  'text/plain',
  'text/xml',
  'text/html',
  'text/csv',
]);

/**
 * What a foreign body is, for messages, without a character of it (a sender can post card
 * numbers, names, tokens): `412 bytes, application/x-www-form-urlencoded`.
 */
export function describeBody(body: string, contentType: string | undefined): string {
  const size = Buffer.byteLength(body, 'utf8');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const type =
    mediaType === ''
      ? 'no content type'
      : NAMED_CONTENT_TYPES.has(mediaType)
        ? mediaType
        : 'an unlisted content type';
  return `${size} ${size === 1 ? 'byte' : 'bytes'}, ${type}`;
}

/** `a number`, `null`, `a list`…: what a JSON value is, never what it says. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

/**
 * JSON.parse for a webhook body. On failure a WebhookParseError says `problem`, then the body's
 * size and content type, what was expected and where parsing stopped, but not the text: V8's
 * message quotes it (`Unexpected token 'o', "token=abc12"...`).
 */
export function parseWebhookJson(
  text: string,
  context: { who: string; problem: string; contentType: string | undefined; expected: string },
): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const place = jsonStop(text, error as Error);
    throw new WebhookParseError(
      `${context.who}: ${context.problem} (${describeBody(text, context.contentType)}; expected ${context.expected}${place ? `; ${place}` : ''})`,
    );
  }
}

/** Where JSON.parse gave up, when its message says; nothing for an empty body. */
function jsonStop(text: string, error: Error): string | undefined {
  return text.trim() === '' ? undefined : jsonErrorPlace(text, error, 'body');
}
