/** Daily verified delete-at-source for the accounts that turned it on. */
import { deleteAtSource, type SourceDeleter } from '../core/delete-at-source.ts';
import { jsonLogger, type Logger } from '../core/log.ts';
import type { AccountDirectory, ComplianceIndex, ComplianceStore } from '../core/ports.ts';
import { emfLine, writeStdout } from './emf.ts';
import {
  environmentAccounts,
  environmentAdapters,
  environmentIndex,
  environmentStore,
} from './environment.ts';
import { once } from './runtime.ts';

export interface DeleteAtSourceHandlerDeps {
  accounts: AccountDirectory;
  adapterFor(accountId: string): Promise<SourceDeleter>;
  index: ComplianceIndex;
  store: ComplianceStore;
  logger: Logger;
  emit?: (line: string) => void;
}

export const createDeleteAtSourceHandler = (deps: DeleteAtSourceHandlerDeps) => async () => {
  const result = await deleteAtSource({
    accounts: await deps.accounts.list(),
    deleterFor: deps.adapterFor,
    index: deps.index,
    store: deps.store,
  });
  (deps.emit ?? writeStdout)(
    emfLine(
      { Stage: 'delete-at-source' },
      {
        DeletedAtSource: result.deleted.length,
        DeleteAtSourceUnverified: result.unverified.length,
        DeleteAtSourceFailed: result.failed.length,
      },
    ),
  );
  for (const item of [...result.unverified, ...result.failed]) {
    deps.logger.warn('not deleted at source', { account: item.accountId, id: item.id, reason: item.detail });
  }
  return {
    deleted: result.deleted.length,
    unverified: result.unverified.length,
    failed: result.failed.length,
  };
};

const fromEnvironment = once(() =>
  createDeleteAtSourceHandler({
    accounts: environmentAccounts(),
    adapterFor: environmentAdapters(),
    index: environmentIndex(),
    store: environmentStore(),
    logger: jsonLogger,
  }),
);

export const handler = () => fromEnvironment()();
