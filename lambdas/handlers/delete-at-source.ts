/** Daily verified delete-at-source for the accounts that turned it on. */
import { deleteAtSource, type SourceDeleter } from '../core/delete-at-source.ts';
import type { ComplianceIndex, ProviderSlots } from '../core/ports.ts';
import { emfLine, writeStdout } from './emf.ts';
import { environmentAccountJob, environmentSlots } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { type AccountJobDeps, builtOnce } from './runtime.ts';

export type DeleteAtSourceHandlerDeps = AccountJobDeps<SourceDeleter, ComplianceIndex> & {
  /** The provider slots ingest takes: a deletion is a provider request like a download. */
  slots?: ProviderSlots;
};

/** Kept free at the end of the invocation: the recordings under way finish, the metrics go out. */
export const DELETE_MARGIN_MS = 60_000;

export const createDeleteAtSourceHandler =
  (deps: DeleteAtSourceHandlerDeps) =>
  async (_event?: unknown, context?: { getRemainingTimeInMillis(): number }) => {
    const result = await deleteAtSource({
      accounts: await deps.accounts.list(),
      deleterFor: deps.adapterFor,
      index: deps.index,
      store: deps.store,
      slots: deps.slots,
      ...(context
        ? { timeBox: { deadline: Date.now() + context.getRemainingTimeInMillis() - DELETE_MARGIN_MS } }
        : {}),
    });
    (deps.emit ?? writeStdout)(
      emfLine(
        { stage: 'delete-at-source' },
        {
          DeletedAtSource: result.deleted.length,
          DeleteAtSourceUnverified: result.unverified.length,
          DeleteAtSourceFailed: result.failed.length,
          DeleteAtSourceRemaining: result.remaining,
        },
      ),
    );
    for (const item of [...result.unverified, ...result.failed]) {
      deps.logger.warn('not deleted at source', {
        account: item.accountId,
        id: item.id,
        reason: item.detail,
      });
    }
    return {
      deleted: result.deleted.length,
      unverified: result.unverified.length,
      failed: result.failed.length,
      remaining: result.remaining,
      notDeletable: result.notDeletable,
      held: result.held,
    };
  };

export const handler = lambdaHandler(
  'delete-at-source',
  builtOnce(() => createDeleteAtSourceHandler({ ...environmentAccountJob(), slots: environmentSlots() })),
);
