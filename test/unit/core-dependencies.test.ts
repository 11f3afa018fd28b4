/**
 * The core depends on nothing outward: not on the provider adapters, the AWS implementations,
 * the handlers, an AWS SDK or undici. Every import of every file under lambdas/core is read
 * (type imports, re-exports and dynamic imports included) and checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CORE = resolve(dirname(fileURLToPath(import.meta.url)), '../../lambdas/core');

/** Packages that tie code to AWS or to an HTTP transport. */
const OUTWARD_PACKAGES = [/^@aws-sdk\//, /^@smithy\//, /^aws-sdk$/, /^@aws-lambda-powertools\//, /^undici$/];

/** Every module specifier the source imports or re-exports, statically or dynamically. */
function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/** Why `specifier`, imported by the core file at `path`, reaches outward; undefined if it does not. */
function outwardReason(path: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = relative(CORE, resolve(dirname(path), specifier));
    return target.startsWith('..') ? `leaves lambdas/core (${target.split(sep).join('/')})` : undefined;
  }
  return OUTWARD_PACKAGES.some((pattern) => pattern.test(specifier))
    ? 'is an AWS or HTTP package'
    : undefined;
}

function outwardImports(path: string, source: string): string[] {
  return importSpecifiers(source).flatMap((specifier) => {
    const reason = outwardReason(path, specifier);
    return reason ? [`${relative(CORE, path)} imports ${specifier}: ${reason}`] : [];
  });
}

const coreFiles = readdirSync(CORE, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts'))
  .map((name) => join(CORE, name));

describe('lambdas/core', () => {
  it('imports nothing from providers/, aws/, handlers/, an AWS SDK or undici', () => {
    expect(coreFiles.length).toBeGreaterThan(10);
    const outward = coreFiles.flatMap((path) => outwardImports(path, readFileSync(path, 'utf8')));
    expect(outward).toEqual([]);
  });

  it('catches every form an outward import can take', () => {
    const path = join(CORE, 'example.ts');
    const source = [
      "import type { ProviderAdapter } from '../providers/adapter.ts';",
      "import { S3Client } from '@aws-sdk/client-s3';",
      "export { request } from 'undici';",
      "const { handler } = await import('../handlers/ingest.ts');",
      "import type { RecordingIndex } from './ports.ts';",
      "import { z } from 'zod';",
    ].join('\n');
    expect(outwardImports(path, source)).toEqual([
      'example.ts imports ../providers/adapter.ts: leaves lambdas/core (../providers/adapter.ts)',
      'example.ts imports @aws-sdk/client-s3: is an AWS or HTTP package',
      'example.ts imports undici: is an AWS or HTTP package',
      'example.ts imports ../handlers/ingest.ts: leaves lambdas/core (../handlers/ingest.ts)',
    ]);
  });
});
