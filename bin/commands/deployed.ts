/**
 * `--deployed --stack <name>`: a command on the deployed archive, with the operator's own AWS
 * credentials. The stack's outputs name the table and the bucket; nothing else is configured.
 */
import type { ComplianceIndex, ComplianceStore, WorkflowStarter } from '../../lambdas/core/ports.ts';

/** The outputs of a deployed stack (CloudFormation DescribeStacks). */
export async function stackOutputs(stackName: string): Promise<Record<string, string>> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cloudformation = new CloudFormationClient({});
  try {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Stacks?.[0]?.Outputs ?? [];
    return Object.fromEntries(
      outputs.flatMap((output) => (output.OutputKey ? [[output.OutputKey, output.OutputValue ?? '']] : [])),
    );
  } finally {
    cloudformation.destroy();
  }
}

/** The output `name` of the stack, or a UsageError saying the stack is not a callvault stack. */
export async function requireOutput(
  outputs: Record<string, string>,
  stackName: string,
  name: string,
): Promise<string> {
  const value = outputs[name];
  if (value) return value;
  const { UsageError } = await import('../../lambdas/core/errors.ts');
  throw new UsageError(`stack ${stackName} has no ${name} output: is it a callvault stack?`);
}

/**
 * The deployed index and store for as long as `use` runs; with `ingest`, also the ingest
 * workflow's executions (an erasure asks whether one is running; a hold needs none of it).
 */
export async function withDeployedArchive<T>(
  stackName: string,
  use: (archive: {
    index: ComplianceIndex;
    store: ComplianceStore;
    ingest?: Pick<WorkflowStarter, 'status'>;
  }) => Promise<T>,
  options: { ingest?: boolean } = {},
): Promise<T> {
  const [{ DynamoDBClient }, { S3Client }, { DynamoRecordingIndex }, { S3ArchiveStore }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-s3'),
    import('../../lambdas/aws/dynamo-index.ts'),
    import('../../lambdas/aws/s3-store.ts'),
  ]);
  const outputs = await stackOutputs(stackName);
  const tableName = await requireOutput(outputs, stackName, 'TableName');
  const bucketName = await requireOutput(outputs, stackName, 'BucketName');
  const dynamo = new DynamoDBClient({});
  const s3 = new S3Client({});
  const ingest = options.ingest ? await deployedIngest(outputs, stackName) : undefined;
  try {
    return await use({
      index: new DynamoRecordingIndex(dynamo, tableName),
      store: new S3ArchiveStore(s3, bucketName),
      ingest: ingest?.starter,
    });
  } finally {
    dynamo.destroy();
    s3.destroy();
    ingest?.close();
  }
}

async function deployedIngest(outputs: Record<string, string>, stackName: string) {
  const stateMachineArn = await requireOutput(outputs, stackName, 'StateMachineArn');
  const [{ SFNClient }, { SfnWorkflowStarter }] = await Promise.all([
    import('@aws-sdk/client-sfn'),
    import('../../lambdas/aws/sfn-starter.ts'),
  ]);
  const sfn = new SFNClient({});
  return { starter: new SfnWorkflowStarter(sfn, stateMachineArn), close: () => sfn.destroy() };
}
