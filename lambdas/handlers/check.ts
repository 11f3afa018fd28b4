/** Workflow task: is the recording ready? Returns the state with the next decision. */
import { type CheckDeps, checkReadiness, type IngestState } from '../core/ingest.ts';
import {
  environmentAdapters,
  environmentIndex,
  environmentReadiness,
  environmentSlots,
} from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { once } from './runtime.ts';

export const createCheckHandler = (deps: CheckDeps) => (state: IngestState) => checkReadiness(state, deps);

const fromEnvironment = once(() =>
  createCheckHandler({
    adapterFor: environmentAdapters(),
    index: environmentIndex(),
    readiness: environmentReadiness(),
    slots: environmentSlots(),
  }),
);

export const handler = lambdaHandler('check', (state: IngestState) => fromEnvironment()(state));
