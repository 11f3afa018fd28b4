/**
 * The local stack executes the state machine CDK synthesizes, not a copy: these tests read the
 * template and compare it with what the local runner executes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import { harvest } from '../../local/harvest.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { localDefinition, synthesizeTemplate } from '../../local/template.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

describe('the workflow the local stack runs', () => {
  let simulator: VoipbinSimulator;
  let stack: TestStack;

  beforeAll(async () => {
    const recordings = sampleRecordings(3, { prefix: 'wf' });
    simulator = new VoipbinSimulator({ recordings });
    await simulator.start();
    simulator.markDeleted('wf-00002');
    stack = await startTestStack([voipbinSimulatorAccount(simulator, 'vb')]);
  });

  afterAll(async () => {
    await stack?.dispose();
    await simulator?.stop();
  });

  it('is the synthesized definition, with every Task mapped to the handler its function runs', async () => {
    const template = await synthesizeTemplate(
      parseConfig({ accounts: [voipbinSimulatorAccount(simulator, 'vb')] }),
    );
    const { definition, taskHandlers } = localDefinition(template);
    const states = (definition as { States: Record<string, { Type: string; Resource?: string }> }).States;
    // Task resources are the template's own Lambda functions (their logical ids), resolved.
    const functionIds = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
      .map(([logicalId]) => logicalId);
    for (const state of Object.values(states).filter((candidate) => candidate.Type === 'Task')) {
      expect(functionIds).toContain(state.Resource?.split(':function:')[1]);
    }
    expect(taskHandlers).toEqual({
      CheckReadiness: 'check',
      Archive: 'archive',
      RecordArchived: 'record',
      RecordSkipped: 'record',
      RecordFailed: 'record',
      AlreadyDoneFreePlace: 'record',
      ErasedFreePlace: 'record',
    });
  });

  it('takes four state transitions for a recording ready at its first check', async () => {
    await harvest(stack);
    const executions = [...stack.stepFunctions.executions.values()];
    expect(executions).toHaveLength(2);
    for (const execution of executions) {
      expect(execution.status).toBe('SUCCEEDED');
      expect(execution.statesEntered).toEqual(['CheckReadiness', 'Route', 'Archive', 'RecordArchived']);
    }
  });
});
