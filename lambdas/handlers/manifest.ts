/** Daily manifest of the UTC day that just ended, chained to the one before. */
import type { Logger } from '../core/log.ts';
import { previousUtcDay, writeManifest } from '../core/manifest.ts';
import type { ComplianceStore, RecordingIndex } from '../core/ports.ts';
import { environmentIndex, environmentLogger, environmentStore } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export interface ManifestHandlerDeps {
  index: RecordingIndex;
  store: ComplianceStore;
  logger: Logger;
  now?: () => Date;
}

export const createManifestHandler = (deps: ManifestHandlerDeps) => async (event?: { date?: string }) => {
  const date = event?.date ?? previousUtcDay(deps.now?.() ?? new Date());
  const written = await writeManifest(date, deps);
  deps.logger.info('manifest written', { ...written });
  return written;
};

export const handler = lambdaHandler(
  'manifest',
  builtOnce(() =>
    createManifestHandler({
      index: environmentIndex(),
      store: environmentStore(),
      logger: environmentLogger(),
    }),
  ),
);
