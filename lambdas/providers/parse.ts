/**
 * Parsing helpers shared by the adapters: numbers and strings in the providers' forms, XML
 * bodies, array-or-object JSON and the object guard. Dates are the core's (`core/time.ts`).
 */
import { XMLParser } from 'fast-xml-parser';

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
