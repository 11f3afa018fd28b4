/**
 * Starts executions; Step Functions itself refuses a second execution of the same name. A sweep
 * starts up to a page of executions at once, and StartExecution's quota (a bucket of 1,300
 * refilled at 300/s in large regions, far less in others) answers ThrottlingException beyond it:
 * that is waited out with backoff rather than failing the page.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../core/ports.ts';

/** How long throttled StartExecution calls are retried: attempts, and the backoff between them. */
export interface ThrottleBackoff {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * At most about 3 s of waiting per start (each attempt being the SDK's own three tries): the
 * quota refills within seconds, and the webhook function that starts executions too answers in
 * ten. A sweep page still throttled after that fails its unit, which the workflow retries.
 */
const DEFAULT_BACKOFF: ThrottleBackoff = { attempts: 6, baseMs: 100, maxMs: 2_000 };

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'TooManyRequests']);

export function isThrottling(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLED.has(name ?? '') || $metadata?.httpStatusCode === 429;
}

export class SfnWorkflowStarter implements WorkflowStarter {
  private readonly backoff: ThrottleBackoff;

  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    backoff: Partial<ThrottleBackoff> = {},
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...backoff };
  }

  async start(name: string, input: unknown): Promise<'started' | 'exists'> {
    for (let attempt = 1; ; attempt += 1) {
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
        if (!isThrottling(error) || attempt >= this.backoff.attempts) throw error;
        // Full jitter: the page's parallel starts spread out instead of retrying in step.
        const ceiling = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (attempt - 1));
        await sleep(Math.random() * ceiling);
      }
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
