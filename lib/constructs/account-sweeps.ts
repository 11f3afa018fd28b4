import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface SweptAccount {
  /** The callvault account id, passed to the sweep as `{ "accountId": "..." }`. */
  readonly id: string;
  /** `rate(...)` or `cron(...)`, as EventBridge Scheduler reads them (UTC). */
  readonly schedule: string;
}

export interface AccountSweepsProps {
  /** One schedule per account. */
  readonly accounts: readonly SweptAccount[];
  /** The sweep workflow's ARN; each schedule starts it with `{ "accountId": "..." }`. */
  readonly sweepStateMachineArn: string;
}

/**
 * One EventBridge Scheduler schedule per account, all starting the sweep workflow directly
 * through one role. Unlike an EventBridge rule per account (each adding a statement to the
 * target's resource policy, whose 20 KB ran out at about 60 accounts), a schedule adds nothing
 * to any policy, and an account may hold a million of them. Deep passes need no schedule of their
 * own: the sweep itself decides when one is due.
 */
export class AccountSweeps extends Construct {
  /** The one role every schedule starts the sweep workflow with (states:StartExecution only). */
  public readonly role: Role;
  /** One per account, in the order of `accounts`. */
  public readonly schedules: CfnSchedule[];

  constructor(scope: Construct, id: string, props: AccountSweepsProps) {
    super(scope, id);
    this.role = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'callvault: start the sweep workflow on each account schedule',
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [props.sweepStateMachineArn] }),
    );
    this.schedules = props.accounts.map(
      (account) =>
        new CfnSchedule(this, `Sweep-${account.id}`, {
          description: `callvault sweep of account ${account.id}`,
          scheduleExpression: account.schedule,
          scheduleExpressionTimezone: 'UTC',
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: props.sweepStateMachineArn,
            roleArn: this.role.roleArn,
            input: JSON.stringify({ accountId: account.id }),
            // A start that fails is tried again; a sweep that is already running ends at once.
            retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 },
          },
        }),
    );
  }
}
