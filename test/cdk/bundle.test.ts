/**
 * The deployed code as CDK bundles it (local esbuild, no Docker): typed error names must survive
 * minification, since the state machine's Retry/Catch match on them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { AppFunction } from '../../lib/constructs/app-function.ts';

describe('AppFunction bundling', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'callvault-bundle-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('keeps the typed error names the workflow matches on, in a minified ESM bundle', () => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'BundleTest');
    new AppFunction(stack, 'Archive', { handlerName: 'archive' });
    const assembly = app.synth();
    const artifact = assembly.getStackByName('BundleTest');
    const code = Object.values(
      artifact.template.Resources as Record<string, { Type: string; Properties: never }>,
    )
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => (resource.Properties as { Code: { S3Key: string } }).Code.S3Key)[0];
    const assetHash = code?.replace(/\.zip$/, '');
    const bundle = readFileSync(join(outdir, `asset.${assetHash}`, 'index.mjs'), 'utf8');
    for (const name of [
      'ProviderUnavailableError',
      'ProviderBusyError',
      'IncompleteDownloadError',
      'RecordingGoneError',
      'RecordingNotReadyError',
    ]) {
      expect(bundle).toContain(`"${name}"`);
    }
    expect(bundle).toMatch(/^import\{createRequire\}|^import \{ createRequire \}/);
  }, 60_000);
});
