/** Workflow task: stream the audio from the provider into S3. Throws typed errors for Retry/Catch. */
import { type ArchiveDeps, archiveRecording, type IngestState } from '../core/ingest.ts';
import { environmentAdapters, environmentIndex, environmentSlots, environmentStore } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export const createArchiveHandler = (deps: ArchiveDeps) => (state: IngestState) =>
  archiveRecording(state, deps);

export const handler = lambdaHandler(
  'archive',
  builtOnce(() =>
    createArchiveHandler({
      adapterFor: environmentAdapters(),
      index: environmentIndex(),
      store: environmentStore(),
      slots: environmentSlots(),
    }),
  ),
);
