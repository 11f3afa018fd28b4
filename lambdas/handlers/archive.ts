/** Workflow task: stream the audio from the provider into S3. Throws typed errors for Retry/Catch. */
import { type ArchiveDeps, archiveRecording, type IngestState } from '../core/ingest.ts';
import { environmentAdapters, environmentSlots, environmentStore } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { once } from './runtime.ts';

export const createArchiveHandler = (deps: ArchiveDeps) => (state: IngestState) =>
  archiveRecording(state, deps);

const fromEnvironment = once(() =>
  createArchiveHandler({
    adapterFor: environmentAdapters(),
    store: environmentStore(),
    slots: environmentSlots(),
  }),
);

export const handler = lambdaHandler('archive', (state: IngestState) => fromEnvironment()(state));
