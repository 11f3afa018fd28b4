/** Starts ingest executions; Step Functions itself refuses a second execution of the same name. */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../core/ports.ts';

export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: unknown): Promise<'started' | 'exists'> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return 'started';
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists')
        return 'exists';
      throw error;
    }
  }

  async status(name: string): Promise<'running' | 'ended' | 'unknown'> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return described.status === 'RUNNING' || described.status === 'PENDING_REDRIVE' ? 'running' : 'ended';
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return 'unknown';
      throw error;
    }
  }
}
