/** Workflow task: is the recording ready? Returns the state with the next decision. */
import { checkReadiness, type IngestState } from '../core/ingest.ts';
import { type Runtime, runtimeFromEnvironment } from './runtime.ts';

export const createCheckHandler = (runtime: Runtime) => (state: IngestState) =>
  checkReadiness(state, runtime);

export const handler = (state: IngestState) => createCheckHandler(runtimeFromEnvironment())(state);
