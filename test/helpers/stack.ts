/** Shared set-up for integration tests: a local stack in a fresh data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AccountConfig, parseConfig, type RetryConfig } from '../../lambdas/core/config.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import { silentLogger } from '../../lambdas/core/log.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import { type OwnedLocalStack, startLocalStack } from '../../local/stack.ts';
import { FAST_RETRY } from './retry.ts';

export interface TestStack extends OwnedLocalStack {
  dataDir: string;
  /** Closes the stack and deletes its data directory. */
  dispose(): Promise<void>;
}

/** An account whose provider is never reached: for tests of the index, search and endpoints. */
export const OFFLINE_ACCOUNT: AccountConfig = {
  id: 'vb',
  provider: 'voipbin',
  baseUrl: 'http://127.0.0.1:9',
  timeZone: 'UTC',
  schedule: 'rate(1 day)',
  auth: { token: 't' },
};

/** The accounts with readiness checks a second apart, so waiting recordings settle in seconds. */
export function testConfig(
  accounts: AccountConfig[],
  options: { deadlineSeconds?: number; retry?: Partial<RetryConfig> } = {},
) {
  return parseConfig({
    accounts,
    readiness: { initialDelaySeconds: 1, maxDelaySeconds: 1, deadlineSeconds: options.deadlineSeconds ?? 30 },
    retry: options.retry,
  });
}

/** A silent stack whose provider-level retries are shortened: the behaviour is the same. */
export const FAST_PROVIDERS = { logger: silentLogger, adapterOptions: { retry: FAST_RETRY } };

/** FAST_PROVIDERS with the workflow's Retry intervals shortened too. */
export const FAST_STACK = { ...FAST_PROVIDERS, retryIntervalScale: 0.002 };

/** What a deployed daily job is handed, here on the test stack: its index and store; metric lines go to `emit`. */
export function jobDepsOf(stack: TestStack, emit: (line: string) => void) {
  return {
    ...stack.runtime,
    index: stack.archive.index,
    store: stack.archive.store,
    logger: silentLogger,
    emit,
  };
}

/** An index entry of a recording whose round 0 failed, as the retry job finds it. */
export const failedEntry = (ref: RecordingRef, reason = 'provider down'): IndexEntry => ({
  id: recordingId(ref),
  ...ref,
  status: 'failed',
  reason,
  round: 0,
  updatedAt: new Date().toISOString(),
});

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `callvault-${name}-`));

export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true });

export async function startTestStack(
  accounts: AccountConfig[],
  options: {
    deadlineSeconds?: number;
    dataDir?: string;
    executionTimeoutSeconds?: number;
    retry?: Partial<RetryConfig>;
  } = {},
): Promise<TestStack> {
  const dataDir = options.dataDir ?? tempDir('it');
  const stack = await startLocalStack({
    ...FAST_STACK,
    config: testConfig(accounts, options),
    dataDir,
    executionTimeoutSeconds: options.executionTimeoutSeconds,
  });
  return {
    ...stack,
    dataDir,
    async dispose() {
      await stack.close();
      if (!options.dataDir) removeDir(dataDir);
    },
  };
}
