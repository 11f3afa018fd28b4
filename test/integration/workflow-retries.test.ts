/**
 * The synthesized workflow's Retry/Catch, run by the local interpreter. The Task handlers here
 * throw the errors the Lambda service and sandbox raise in AWS (throttled invokes, a function
 * timeout): those cannot happen in-process, so the handlers stand in for the failing service;
 * the state machine deciding what to do about them is the real, synthesized one.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import { TRANSIENT_ERRORS } from '../../lib/constructs/ingest-workflow.ts';
import { randomCredentials } from '../../local/sigv4.ts';
import { LocalStepFunctions, type TaskHandler } from '../../local/step-functions.ts';
import { localDefinition, synthesizeTemplate } from '../../local/template.ts';
import { MUST_RETRY } from '../helpers/workflow.ts';

const definition = localDefinition(
  await synthesizeTemplate(
    parseConfig({
      accounts: [{ id: 'vb', provider: 'voipbin', baseUrl: 'http://127.0.0.1:9', auth: { token: 't' } }],
    }),
  ),
);

function failing(name: string, times: number): TaskHandler & { calls: number } {
  const handler = Object.assign(
    async (input: unknown) => {
      handler.calls += 1;
      if (handler.calls <= times) throw Object.assign(new Error(`${name} (simulated)`), { name });
      return { ...(input as object), decision: 'archive' };
    },
    { calls: 0 },
  );
  return handler;
}

async function run(check: TaskHandler) {
  const recorded: string[] = [];
  const stepFunctions = new LocalStepFunctions({
    local: definition,
    handlers: {
      check,
      archive: async () => ({ bucket: 'b', key: 'k', bytes: 1, sha256: 'x', contentType: 'audio/wav' }),
      record: async (input) => {
        recorded.push((input as { outcome: string }).outcome);
        return { status: (input as { outcome: string }).outcome };
      },
    },
    retryIntervalScale: 0.0001,
    credentials: randomCredentials(),
  });
  const execution = await stepFunctions.start('test', { ref: { accountId: 'vb' } }).done;
  return { execution, recorded };
}

describe('the workflow on transient AWS failures', () => {
  it.each(MUST_RETRY)('retries %s and archives', async (name) => {
    expect(TRANSIENT_ERRORS).toContain(name);
    const check = failing(name, 2);
    const { execution, recorded } = await run(check);
    expect(execution.status).toBe('SUCCEEDED');
    expect(check.calls).toBe(3);
    expect(recorded).toEqual(['archived']);
  });

  it('records a final error as failed at once, without retrying it', async () => {
    const check = failing('ProviderAuthError', 1);
    const { execution, recorded } = await run(check);
    expect(execution.status).toBe('FAILED');
    expect(check.calls).toBe(1);
    expect(recorded).toEqual(['failed']);
  });
});
