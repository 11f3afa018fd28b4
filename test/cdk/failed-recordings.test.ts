/**
 * What the stack deploys so that no recording ends without an outcome: transient errors
 * retried, task timeouts above the transport's worst case, stopped executions recorded as
 * failed, the sparse status index, and the scheduled retry job with its alarm.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { INDEX_NAMES, PROJECTED_ATTRIBUTES } from '../../lambdas/core/names.ts';
import { RETRIES_EXHAUSTED_MESSAGE } from '../../lambdas/core/retry.ts';
import { worstCaseRequestMs } from '../../lambdas/providers/http.ts';
import { TRANSIENT_ERRORS } from '../../lib/constructs/ingest-workflow.ts';
import { MUST_RETRY } from '../helpers/workflow.ts';
import {
  actionsOf,
  definitionOf,
  exampleConfig,
  functionOf,
  logicalIdOf,
  resourcesOf,
  statementsOf,
  synthExample,
} from './synth.ts';

const { template } = synthExample({
  ...(exampleConfig as object),
  retry: { maxAttempts: 5, schedule: 'rate(2 hours)' },
});
const states = definitionOf(template).States;
const stateMachineId = logicalIdOf(
  template,
  'AWS::StepFunctions::StateMachine',
  '/Workflow/StateMachine/Resource',
);
const timeoutOf = (handler: string) => functionOf(template, handler).properties.Timeout as number;
const retriedErrors = (state: string) =>
  ((states[state]?.Retry ?? []) as { ErrorEquals: string[] }[]).flatMap((rule) => rule.ErrorEquals);

describe('transient failures', () => {
  it.each(['CheckReadiness', 'Archive'])(
    '%s retries the Lambda service, sandbox and throttling errors',
    (state) => {
      expect(retriedErrors(state)).toEqual(expect.arrayContaining([...MUST_RETRY, ...TRANSIENT_ERRORS]));
    },
  );

  it('the check function outlasts one provider request with all its retries; each task outlasts its function', () => {
    expect(timeoutOf('check') * 1000).toBeGreaterThan(worstCaseRequestMs());
    for (const [state, handler] of [
      ['CheckReadiness', 'check'],
      ['Archive', 'archive'],
      ['RecordArchived', 'record'],
    ] as const) {
      expect(states[state]?.TimeoutSeconds as number).toBeGreaterThan(timeoutOf(handler));
    }
  });
});

describe('executions that end without an outcome', () => {
  it('an EventBridge rule sends timed-out, aborted and failed executions of the state machine to the ended function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['TIMED_OUT', 'ABORTED', 'FAILED'], stateMachineArn: [{ Ref: stateMachineId }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionOf(template, 'ended').id, 'Arn'] } })],
    });
    const writes = statementsOf(template, 'ended').flatMap(actionsOf);
    expect(writes).toEqual(expect.arrayContaining(['dynamodb:UpdateItem']));
    expect(
      writes.filter(
        (action) =>
          !action.startsWith('dynamodb:') && !action.startsWith('logs:') && !action.startsWith('xray:'),
      ),
    ).toEqual(['states:GetExecutionHistory']);
  });

  it('timed-out or aborted executions alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'timedOut + aborted' }),
        Match.objectLike({
          Id: 'timedOut',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsTimedOut' }) }),
        }),
        Match.objectLike({
          Id: 'aborted',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsAborted' }) }),
        }),
      ]),
    });
  });
});

describe('the retry job', () => {
  it('the table has the sparse byStatus GSI: openStatus + sortKey, projecting the listing and the failure count', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: INDEX_NAMES.byStatus,
          KeySchema: [
            { AttributeName: 'openStatus', KeyType: 'HASH' },
            { AttributeName: 'sortKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...PROJECTED_ATTRIBUTES] },
        }),
      ]),
    });
  });

  it('runs on its own schedule with the configured retry settings, reading the index, noting on it what it reported, and starting executions', () => {
    const retry = functionOf(template, 'retry');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(2 hours)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [retry.id, 'Arn'] }, Input: '{}' })],
    });
    const variables = (retry.properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(JSON.parse(variables.CALLVAULT_RETRY as string)).toMatchObject({
      maxAttempts: 5,
      schedule: 'rate(2 hours)',
    });
    const statements = statementsOf(template, 'retry');
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'states:StartExecution', 'states:DescribeExecution']),
    );
    // UpdateItem (the retry-limit note) on the table alone; no PutItem, no batch writes.
    expect(actions.filter((action) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(action))).toEqual([
      'dynamodb:UpdateItem',
    ]);
    const update = statements.find((statement) => actionsOf(statement).includes('dynamodb:UpdateItem'));
    expect(JSON.stringify(update && resourcesOf(update))).not.toContain('/index/');
    const indexArns = JSON.stringify(statements.flatMap(resourcesOf));
    expect(indexArns).toContain(`/index/${INDEX_NAMES.byStatus}"`);
  });

  it('alarms when failed recordings reach the retry limit', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'));
    expect(filters).toHaveLength(1);
    expect(filters[0]?.Properties).toMatchObject({
      FilterPattern: `{ $.message = "${RETRIES_EXHAUSTED_MESSAGE}" }`,
      MetricTransformations: [
        expect.objectContaining({
          MetricNamespace: 'callvault',
          MetricName: 'RetriesExhausted',
          MetricValue: '$.exhausted',
        }),
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'callvault',
      MetricName: 'RetriesExhausted',
      Threshold: 1,
    });
  });

  it('alarms when a run fails (failed recordings it could not hand over again)', () => {
    const retry = functionOf(template, 'retry');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: retry.id } }],
      Period: 3600,
      Threshold: 1,
    });
  });
});
