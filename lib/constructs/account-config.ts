import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import type { PublicAccount } from '../../lambdas/aws/accounts.ts';
import { ENV_VARS } from '../../lambdas/core/names.ts';
import type { AppFunction } from './app-function.ts';
import { acknowledge, defaultPolicyOf } from './nag.ts';

/** The secret name every account uses unless it names its own (`secret`). */
export const DEFAULT_SECRET_PREFIX = 'callvault/';

export interface AccountConfigProps {
  /** The accounts without their secrets, each naming the secret that holds them. */
  readonly accounts: readonly PublicAccount[];
  /**
   * Grant each account's secret by name rather than the default prefix: for a function that may
   * read only these accounts' secrets (few, so the policy stays small).
   * @default false
   */
  readonly secretsByName?: boolean;
}

/**
 * The non-secret account configuration as one S3 object (a CDK asset; see lambdas/aws/accounts.ts
 * for why), and the grants a function needs to read an account: that object and the secrets.
 * The environment carries only the object's bucket and key, whatever the number of accounts.
 */
export class AccountConfig extends Construct {
  /** The accounts object (`accounts.json`) functions read at run time. */
  public readonly asset: Asset;
  /** Its SHA-256, which functions check the object they read against. */
  public readonly sha256: string;
  private readonly secretResources: string[];
  /** Customer-managed keys the accounts' secrets are encrypted with (`secretKmsKeyArn`). */
  private readonly secretKeys: string[];
  private readonly defaultPrefix: boolean;

  constructor(scope: Construct, id: string, props: AccountConfigProps) {
    super(scope, id);
    const json = JSON.stringify(props.accounts);
    this.sha256 = createHash('sha256').update(json).digest('hex');
    // An asset is a file: written once per content, under the temp dir (as CDK's own Source.data).
    const dir = join(tmpdir(), 'callvault-accounts', this.sha256);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'accounts.json'), json);
    this.asset = new Asset(this, 'Accounts', { path: join(dir, 'accounts.json') });

    // One statement for every secret under the default prefix, so a role's policy does not grow
    // by an ARN per account (IAM's 10 KB inline limit would stop at about a hundred accounts).
    const stack = Stack.of(this);
    const secretArn = (name: string) =>
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const named = props.accounts
      .map((account) => account.secret)
      .filter((secret) => props.secretsByName || !secret.startsWith(DEFAULT_SECRET_PREFIX));
    this.defaultPrefix = named.length < props.accounts.length;
    this.secretResources = [
      ...(this.defaultPrefix ? [secretArn(`${DEFAULT_SECRET_PREFIX}*`)] : []),
      // Secrets Manager appends 6 random characters to a secret's name in its ARN.
      ...named.map((secret) => (secret.startsWith('arn:') ? secret : secretArn(`${secret}-??????`))),
    ];
    this.secretKeys = [
      ...new Set(
        props.accounts.flatMap((account) => (account.secretKmsKeyArn ? [account.secretKmsKeyArn] : [])),
      ),
    ];
  }

  /**
   * Tells a function where the accounts object is (its bucket, owner, key and hash, whatever the
   * number of accounts) and lets it read that object and every account's secret.
   */
  public bind(grantee: AppFunction): void {
    grantee.addEnvironment(ENV_VARS.accountsBucket, this.asset.s3BucketName);
    grantee.addEnvironment(ENV_VARS.accountsBucketOwner, Stack.of(this).account);
    grantee.addEnvironment(ENV_VARS.accountsKey, this.asset.s3ObjectKey);
    grantee.addEnvironment(ENV_VARS.accountsSha256, this.sha256);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          Stack.of(this).formatArn({
            service: 's3',
            region: '',
            account: '',
            resource: this.asset.s3BucketName,
            resourceName: this.asset.s3ObjectKey,
          }),
        ],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: this.secretResources,
      }),
    );
    if (this.secretKeys.length > 0) {
      // Only through Secrets Manager. (An imported key in another account gets no grant from the
      // CDK's own key handling: its key policy cannot be edited here.)
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: this.secretKeys,
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
    if (!this.defaultPrefix) return;
    acknowledge(defaultPolicyOf(grantee.role), {
      rule: 'AwsSolutions-IAM5',
      resource: `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${DEFAULT_SECRET_PREFIX}*`,
      reason:
        "The accounts' secrets are named callvault/{accountId}: one statement on that prefix (read only) keeps " +
        "the role policy the same size for 5 or 500 accounts; an ARN per account would pass IAM's size limit.",
    });
  }
}
