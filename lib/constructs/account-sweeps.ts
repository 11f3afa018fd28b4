import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { grantStartAndDescribe } from './ingest-workflow.ts';
import { grantIndexReadWrite } from './recording-store.ts';

export interface SweptAccount {
  readonly id: string;
  /** EventBridge `rate(...)` or `cron(...)`. */
  readonly schedule: string;
}

export interface AccountSweepsProps {
  readonly accounts: readonly SweptAccount[];
  readonly accountSecrets: ISecret[];
  readonly accountsJson: string;
  readonly table: ITable;
  readonly stateMachine: IStateMachine;
}

/** The poll function and one EventBridge schedule per account that sweeps it. */
export class AccountSweeps extends Construct {
  public readonly pollFunction: AppFunction;
  public readonly rules: Rule[];
  public readonly errorsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: AccountSweepsProps) {
    super(scope, id);
    this.pollFunction = new AppFunction(this, 'PollFunction', {
      handlerName: 'poll',
      timeout: Duration.minutes(10),
      environment: {
        TABLE_NAME: props.table.tableName,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        CALLVAULT_ACCOUNTS: props.accountsJson,
      },
    });
    grantIndexReadWrite(props.table, this.pollFunction);
    grantStartAndDescribe(props.stateMachine, this.pollFunction);
    for (const secret of props.accountSecrets) secret.grantRead(this.pollFunction);

    this.rules = props.accounts.map(
      (account) =>
        new Rule(this, `Sweep-${account.id}`, {
          description: `callvault sweep of account ${account.id}`,
          schedule: Schedule.expression(account.schedule),
          targets: [
            new LambdaFunction(this.pollFunction, {
              event: RuleTargetInput.fromObject({ accountId: account.id }),
              retryAttempts: 2,
            }),
          ],
        }),
    );

    this.errorsAlarm = alarmOnAny(
      this,
      'SweepErrors',
      this.pollFunction.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
      'A scheduled sweep failed; its cursor did not move past the failure.',
    );
  }
}
