/** The deployed side of the provider limit: who may touch the slot items, and how busy is retried. */
import { describe, expect, it } from 'vitest';
import { actionsOf, definitionOf, functionOf, logicalIdOf, statementsOf, synthExample } from './synth.ts';

const { template } = synthExample();
const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', '/Store/Index/Resource');
const slotStatements = (handler: string) =>
  statementsOf(template, handler).filter((statement) =>
    String(JSON.stringify(statement.Condition)).includes('slots#'),
  );

describe('provider slots in the stack', () => {
  it.each(['check', 'archive'])(
    '%s may get and update the slots#… items of the table, nothing more',
    (handler) => {
      const [statement, ...others] = slotStatements(handler);
      expect(others).toEqual([]);
      expect(actionsOf(statement ?? { Effect: '', Action: [], Resource: '' }).sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
      ]);
      expect(statement?.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
      expect(statement?.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['slots#*'] },
      });
      const variables = (
        functionOf(template, handler).properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(variables.TABLE_NAME).toEqual({ Ref: tableId });
    },
  );

  it.each(['record', 'poll', 'intake', 'query'])('%s has no access to the slots', (handler) => {
    expect(slotStatements(handler)).toEqual([]);
  });

  it.each(['CheckReadiness', 'Archive'])(
    '%s retries ProviderBusyError first, long and jittered, before the transient retry and any Catch',
    (state) => {
      const retry = definitionOf(template).States[state]?.Retry as Array<{ ErrorEquals: string[] }>;
      const busy = retry.findIndex((retrier) => retrier.ErrorEquals.includes('ProviderBusyError'));
      const transient = retry.findIndex((retrier) =>
        retrier.ErrorEquals.includes('ProviderUnavailableError'),
      );
      expect(retry[busy]).toEqual({
        ErrorEquals: ['ProviderBusyError'],
        IntervalSeconds: 5,
        MaxAttempts: 60,
        BackoffRate: 1.5,
        MaxDelaySeconds: 120,
        JitterStrategy: 'FULL',
      });
      expect(busy).toBeGreaterThanOrEqual(0);
      expect(busy).toBeLessThan(transient);
    },
  );
});
