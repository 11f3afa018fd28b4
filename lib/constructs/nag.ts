import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/** One cdk-nag AwsSolutions finding that is right here, and why. */
export interface NagFinding {
  /** The rule, e.g. `AwsSolutions-IAM5`. */
  readonly rule: string;
  /**
   * The one resource of an IAM5 finding (as cdk-nag writes it: `<LogicalId.Arn>/prefix*`), so
   * the acknowledgement covers that wildcard only.
   * @default the whole rule on `scope`
   */
  readonly resource?: string;
  readonly reason: string;
}

/** Acknowledges `finding` on `scope`; nothing when there is no scope (e.g. a role with no grants). */
export function acknowledge(scope: IConstruct | undefined, finding: NagFinding): void {
  if (!scope) return;
  const resource = finding.resource === undefined ? '' : `[Resource::${finding.resource}]`;
  Validations.of(scope).acknowledge({
    id: `AwsSolutions::${finding.rule}${resource}`,
    reason: finding.reason,
  });
}

/** The policy a role's grants go to, where cdk-nag reports their IAM5 findings. */
export function defaultPolicyOf(role: IRole | undefined): IConstruct | undefined {
  return role?.node.tryFindChild('DefaultPolicy');
}

/**
 * The logical id of a resource of this stack, as findings name it; undefined for an imported
 * one (no resource of its own, its ARN is a literal).
 */
export function logicalIdOf(resource: IConstruct): string | undefined {
  const element = resource.node.defaultChild as CfnElement | undefined;
  return element && Stack.of(element).getLogicalId(element);
}

/** Acknowledges the `{prefix}*` object wildcard of `bucket` in a role's default policy. */
export function acknowledgeObjectPrefix(
  role: IRole | undefined,
  bucket: IBucket,
  prefix: string,
  reason: string,
): void {
  const bucketId = logicalIdOf(bucket);
  if (!bucketId) return;
  acknowledge(defaultPolicyOf(role), {
    rule: 'AwsSolutions-IAM5',
    resource: `<${bucketId}.Arn>/${prefix}*`,
    reason,
  });
}
