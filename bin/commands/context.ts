/** Opens what the compliance commands need on the local stack; heavy modules load lazily. */
import { resolve } from 'node:path';
import type { CallvaultConfig } from '../../lambdas/core/config.ts';
import type { ComplianceContext } from '../../local/compliance.ts';

/** The archive and the adapters; with `workflow`, the local Step Functions too (repair). */
export async function openCompliance(
  config: CallvaultConfig,
  dataDir: string,
  options: { workflow?: boolean } = {},
): Promise<ComplianceContext & { close(): Promise<void> }> {
  const quiet = { info() {}, warn() {}, error() {} };
  if (options.workflow) {
    const { openLocalStack } = await import('../../local/stack.ts');
    const stack = await openLocalStack({ config, dataDir: resolve(dataDir), logger: quiet });
    return {
      archive: stack.archive,
      adapterFor: stack.runtime.adapterFor,
      slots: stack.runtime.slots,
      starter: stack.runtime.starter,
      waitFor: (names) => stack.waitFor(names),
      close: () => stack.close(),
    };
  }
  const { LOCAL_TABLE, openLocalArchive } = await import('../../local/stack.ts');
  const { StaticAccountDirectory } = await import('../../lambdas/aws/accounts.ts');
  const { adapterCache } = await import('../../lambdas/providers/index.ts');
  const { DynamoProviderSlots } = await import('../../lambdas/aws/dynamo-slots.ts');
  const archive = await openLocalArchive(resolve(dataDir), { retention: config.retention });
  return {
    archive,
    adapterFor: adapterCache(new StaticAccountDirectory(config.accounts), { logger: quiet }),
    // In the table a `serve` beside may be harvesting into: its slots are theirs too.
    slots: new DynamoProviderSlots(archive.dynamo, LOCAL_TABLE),
    close: () => archive.close(),
  };
}

/** Commander's own usage errors exit 2, like a config error, not 1 (which means "gaps found"). */
export function usageExitsTwo(error: { exitCode: number }): never {
  process.exit(error.exitCode === 0 ? 0 : 2);
}
