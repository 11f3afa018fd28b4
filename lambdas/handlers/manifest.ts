/** Daily manifest of the UTC day that just ended, chained to the one before. */
import { jsonLogger, type Logger } from '../core/log.ts';
import { previousUtcDay, writeManifest } from '../core/manifest.ts';
import type { ComplianceStore, RecordingIndex } from '../core/ports.ts';
import { environmentIndex, environmentStore } from './environment.ts';
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

export const handler = builtOnce(() =>
  createManifestHandler({ index: environmentIndex(), store: environmentStore(), logger: jsonLogger }),
);
