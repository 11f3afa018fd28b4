/** Workflow task: is the recording ready? Returns the state with the next decision. */
import { type CheckDeps, checkReadiness, type IngestState } from '../core/ingest.ts';
import {
  environmentAdapters,
  environmentIndex,
  environmentReadiness,
  environmentSlots,
} from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export const createCheckHandler = (deps: CheckDeps) => (state: IngestState) => checkReadiness(state, deps);

export const handler = lambdaHandler(
  'check',
  builtOnce(() =>
    createCheckHandler({
      adapterFor: environmentAdapters(),
      index: environmentIndex(),
      readiness: environmentReadiness(),
      slots: environmentSlots(),
    }),
  ),
);
