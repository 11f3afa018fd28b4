/** Workflow task: stream the audio from the provider into S3. Throws typed errors for Retry/Catch. */
import { archiveRecording, type IngestState } from '../core/ingest.ts';
import { type Runtime, runtimeFromEnvironment } from './runtime.ts';

export const createArchiveHandler = (runtime: Runtime) => (state: IngestState) =>
  archiveRecording(state, runtime);

export const handler = (state: IngestState) => createArchiveHandler(runtimeFromEnvironment())(state);
