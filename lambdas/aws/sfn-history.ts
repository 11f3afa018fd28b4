/**
 * An ended execution's last state data, from GetExecutionHistory read newest first: the output
 * of the last state that exited (a Task's output after its ResultPath, a Choice's or Wait's
 * input passed on).
 */
import { GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionHistory } from '../core/ports.ts';

/**
 * Events read at most. An ingest execution's tail is a few events per state (entered, scheduled,
 * started, failed, retried): the last exited state lies within the first page unless the failing
 * step retried for very long.
 */
const MAX_EVENTS = 500;
const PAGE = 100;

export class SfnExecutionHistory implements ExecutionHistory {
  constructor(private readonly sfn: SFNClient) {}

  async lastState(executionArn: string): Promise<unknown> {
    let nextToken: string | undefined;
    for (let read = 0; read < MAX_EVENTS; read += PAGE) {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: PAGE, nextToken }),
      );
      for (const event of page.events ?? []) {
        const output = event.stateExitedEventDetails?.output;
        if (output !== undefined) return JSON.parse(output);
      }
      nextToken = page.nextToken;
      if (!nextToken) return undefined;
    }
    return undefined;
  }
}
