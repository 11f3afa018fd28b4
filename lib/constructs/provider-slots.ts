import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { JitterType, type RetryProps } from 'aws-cdk-lib/aws-stepfunctions';

/**
 * What DynamoProviderSlots does: GetItem and conditional UpdateItem on the `slots#…` items of
 * the index table, and nothing else of it.
 */
export function grantProviderSlots(table: ITable, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    resourceArns: [table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['slots#*'] } },
  });
}

/**
 * A task that found its provider busy (every slot taken, or a 429) waits and tries again, long
 * enough for a backlog to drain (about 1.8 h at most, half on average with full jitter), before
 * the recording is recorded failed and left to the retry of failed recordings.
 */
export const PROVIDER_BUSY_RETRY: RetryProps = {
  errors: ['ProviderBusyError'],
  interval: Duration.seconds(5),
  maxAttempts: 60,
  backoffRate: 1.5,
  maxDelay: Duration.minutes(2),
  jitterStrategy: JitterType.FULL,
};
