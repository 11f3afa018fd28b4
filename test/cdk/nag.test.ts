/** cdk-nag's AwsSolutions pack as a test: the stack synthesizes with no unacknowledged finding. */
import { Stack, Validations } from 'aws-cdk-lib';
import { Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { exampleConfig, nagReport, unbundledApp } from './synth.ts';

describe('cdk-nag AwsSolutions', () => {
  // Synthesizing the whole stack with cdk-nag is the slowest CDK test: more than 30 s under load.
  it('finds nothing unacknowledged in the stack, and each acknowledgement is specific', {
    timeout: 120_000,
  }, () => {
    const nag = nagReport(exampleConfig);
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    // Every acknowledgement names one finding, with a reason; new ones must be added here on purpose.
    const acknowledged = (nag?.suppressedViolations ?? []).map((violation) => {
      expect(violation.reason?.length).toBeGreaterThan(40);
      return violation.ruleName;
    });
    const distinct = [...new Set(acknowledged)];
    expect(distinct).toHaveLength(8);
    expect(distinct).toEqual(
      expect.arrayContaining([
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-L1',
        'AwsSolutions-APIG4',
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<StoreAudio\w+\.Arn>\/recordings\/\*\]$/),
        expect.stringMatching(
          /^AwsSolutions-IAM5\[Resource::<StoreAudio\w+\.Arn>\/reports\/reconcile\/\*\]$/,
        ),
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<StoreAudio\w+\.Arn>\/manifests\/\*\]$/),
        expect.stringMatching(
          /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:.*:execution:.*:\*\]$/,
        ),
        expect.stringMatching(
          /^AwsSolutions-IAM5\[Resource::arn:.*:secretsmanager:.*:secret:callvault\/\*\]$/,
        ),
      ]),
    );
    const count = (rule: string | RegExp) =>
      acknowledged.filter((name) => (typeof rule === 'string' ? name === rule : rule.test(name))).length;
    // Ten functions: check, archive, record, sweep-step, intake, query, ended, retry, reconcile, manifest.
    expect(count('AwsSolutions-L1')).toBe(10);
    // X-Ray on the ten function roles, logs delivery + X-Ray on the two state machine roles.
    expect(count('AwsSolutions-IAM5[Resource::*]')).toBe(12);
    // The account secrets' prefix: the functions that read accounts (check, archive, sweep-step,
    // intake, reconcile).
    expect(count(/secret:callvault\/\*\]$/)).toBe(5);
    // The archive prefix: archive (get/put/abort), query (get, for presigned URLs), reconcile
    // and manifest (get: re-hash, version id).
    expect(count(/recordings\/\*\]$/)).toBe(4);
    // One report a day, one manifest a day.
    expect(count(/reports\/reconcile\/\*\]$/)).toBe(1);
    expect(count(/manifests\/\*\]$/)).toBe(1);
    // Executions of the ingest state machine: sweep-step, intake and retry may ask how one ended,
    // ended may read the history of one that stopped.
    expect(count(/:execution:.*:\*\]$/)).toBe(4);
    // No authorizer: the webhook route only (the handler authenticates with the account's secret).
    const publicRoutes = (nag?.suppressedViolations ?? []).filter(
      (violation) => violation.ruleName === 'AwsSolutions-APIG4',
    );
    expect(publicRoutes).toHaveLength(1);
    expect(publicRoutes[0]?.reason).toMatch(/webhook secret/);
    expect(publicRoutes[0]?.reason).toMatch(/HMAC/);
    expect(publicRoutes[0]?.violatingConstructs?.map((resource) => resource.constructPath)).toEqual([
      expect.stringMatching(/\/WebhookApi\/Api\/POST--webhooks--\{accountId\}\/Resource$/),
    ]);
  });

  it('does run: a bucket without TLS enforcement or access logs fails the synth', () => {
    const app = unbundledApp();
    const stack = new Stack(app, 'Broken');
    new Bucket(stack, 'Plain', { encryption: BucketEncryption.S3_MANAGED, enforceSSL: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });
});
