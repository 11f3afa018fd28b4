/** Shared set-up for integration tests: a local stack in a fresh data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AccountConfig, parseConfig, type RetryConfig } from '../../lambdas/core/config.ts';
import { silentLogger } from '../../lambdas/core/log.ts';
import { type OwnedLocalStack, startLocalStack } from '../../local/stack.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface TestStack extends OwnedLocalStack {
  dataDir: string;
  /** Closes the stack and deletes its data directory. */
  dispose(): Promise<void>;
}

export async function startTestStack(
  accounts: AccountConfig[],
  options: {
    deadlineSeconds?: number;
    dataDir?: string;
    executionTimeoutSeconds?: number;
    retry?: Partial<RetryConfig>;
  } = {},
): Promise<TestStack> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'callvault-it-'));
  const config = parseConfig({
    accounts,
    readiness: { initialDelaySeconds: 1, maxDelaySeconds: 1, deadlineSeconds: options.deadlineSeconds ?? 30 },
    retry: options.retry,
  });
  const stack = await startLocalStack({
    config,
    dataDir,
    logger: silentLogger,
    // Provider-level retries and workflow Retry intervals shortened: the behaviour is the same.
    adapterOptions: { retry: { minDelayMs: 5, maxDelayMs: 20 } },
    retryIntervalScale: 0.002,
    executionTimeoutSeconds: options.executionTimeoutSeconds,
  });
  return {
    ...stack,
    dataDir,
    async dispose() {
      await stack.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
