import type { IAspect } from 'aws-cdk-lib';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/**
 * One retention for every log group of the stack (function, execution and access logs are the
 * audit trail), whichever construct created it: config `logRetentionDays`.
 */
export class LogRetention implements IAspect {
  constructor(private readonly days: number) {}

  visit(node: IConstruct): void {
    if (node instanceof CfnLogGroup) node.retentionInDays = this.days;
  }
}
