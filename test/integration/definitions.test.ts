/**
 * The local stack runs what CDK synthesizes, synthesized once per code and config: a cached
 * definition is the fresh synth's, every state machine of the template is in it, and a change of
 * config or code is a miss.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import {
  codeFingerprint,
  forgetLoadedWorkflows,
  loadWorkflows,
  synthesizeWorkflows,
  workflowsKey,
} from '../../local/definitions.ts';
import { INGEST_STATE_MACHINE_PATH, localWorkflows, synthesizeTemplate } from '../../local/template.ts';

const root = mkdtempSync(join(tmpdir(), 'callvault-definitions-'));
const account = {
  id: 'vb',
  provider: 'voipbin',
  baseUrl: 'http://127.0.0.1:9',
  timeZone: 'UTC',
  schedule: 'rate(15 minutes)',
  auth: { token: 'not-a-secret' },
};
const config = (deadlineSeconds: number) =>
  parseConfig({
    accounts: [account],
    readiness: { initialDelaySeconds: 1, maxDelaySeconds: 2, deadlineSeconds },
  });

describe('workflow definitions built once per code and config', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('caches in the data directory exactly what a fresh synth gives, for every state machine', async () => {
    const dataDir = join(root, 'cached');
    const first = await loadWorkflows(config(120), dataDir);
    expect(first.source).toBe('synth');

    forgetLoadedWorkflows();
    const cached = await loadWorkflows(config(120), dataDir);
    expect(cached.source).toBe('cache');
    const template = await synthesizeTemplate(config(120));
    expect({ stateMachines: cached.stateMachines, table: cached.table }).toEqual(localWorkflows(template));

    // Generic: every state machine of the template, by construct path (the ingest one among them).
    const paths = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine')
      .map((resource) => resource.Metadata?.['aws:cdk:path']);
    expect(Object.keys(cached.stateMachines).sort()).toEqual(paths.sort());
    expect(paths).toContain(INGEST_STATE_MACHINE_PATH);
    expect(cached.stateMachines[INGEST_STATE_MACHINE_PATH]?.taskHandlers.Archive).toBe('archive');

    // Credentials never reach the cache (it holds the definitions, keyed by the deploy config).
    expect(readFileSync(join(dataDir, 'workflows.json'), 'utf8')).not.toContain('not-a-secret');
  }, 120_000);

  it('synthesizes again when the config changes what the template holds', async () => {
    const dataDir = join(root, 'config-change');
    await loadWorkflows(config(120), dataDir);
    forgetLoadedWorkflows();
    const changed = await loadWorkflows(config(600), dataDir);
    expect(changed.source).toBe('synth');
    expect(workflowsKey(config(600))).not.toBe(workflowsKey(config(120)));
    // The deadline bounds the execution: the definition depends on the config, honestly.
    const timeout = (workflows: typeof changed) =>
      workflows.stateMachines[INGEST_STATE_MACHINE_PATH]?.definition.TimeoutSeconds;
    expect(timeout(changed)).toBe(600 + 6 * 3600);
    expect({ stateMachines: changed.stateMachines, table: changed.table }).toEqual(
      await synthesizeWorkflows(config(600)),
    );
    // Credentials are not part of the key: rotating a secret keeps the cache.
    const rotated = parseConfig({ ...config(600), accounts: [{ ...account, auth: { token: 'other' } }] });
    expect(workflowsKey(rotated)).toBe(workflowsKey(config(600)));
  }, 120_000);

  it('synthesizes again over a torn or foreign cache file', async () => {
    const dataDir = join(root, 'torn');
    await loadWorkflows(config(120), dataDir);
    writeFileSync(join(dataDir, 'workflows.json'), '{"key": "0123", "stateMa');
    forgetLoadedWorkflows();
    const rebuilt = await loadWorkflows(config(120), dataDir);
    expect(rebuilt.source).toBe('synth');
    expect(JSON.parse(readFileSync(join(dataDir, 'workflows.json'), 'utf8')).key).toBe(
      workflowsKey(config(120)),
    );
  }, 120_000);

  it('keys the code by every file the template derives from', () => {
    const copy = join(root, 'code');
    for (const directory of ['lib', 'lambdas', 'local'])
      cpSync(join(import.meta.dirname, '../..', directory), join(copy, directory), { recursive: true });
    const before = codeFingerprint(copy);
    expect(codeFingerprint(copy)).toBe(before);
    const workflow = join(copy, 'lib/constructs/ingest-workflow.ts');
    writeFileSync(workflow, `${readFileSync(workflow, 'utf8')}\n// changed\n`);
    expect(codeFingerprint(copy)).not.toBe(before);
  });
});
