import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen, shut } from '../helpers/http-server.ts';
import {
  CLOUDWATCH_TARGET_PREFIX,
  type MetricDataOptions,
  type MetricDataRequest,
  metricDataEndpoint,
} from './cloudwatch-shim.ts';

export interface AwsShims {
  endpoint: string;
  /** Every API call received, as `Service.Action`. */
  calls: string[];
  /** Every CloudWatch GetMetricData request, as received. */
  metricDataRequests: MetricDataRequest[];
  close(): Promise<void>;
}

export const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAwsShims(options: {
  /** Secret name → SecretString. */
  secrets?: Record<string, string>;
  /** Stack name → its outputs. */
  stacks?: Record<string, Record<string, string>>;
  /** What CloudWatch holds (no datapoints unless given). */
  metrics?: MetricDataOptions;
}): Promise<AwsShims> {
  const calls: string[] = [];
  const cloudWatch = metricDataEndpoint(options.metrics ?? { datapoints: [] });
  const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-AbCdEf`;

  function secretsManager(target: string, input: { SecretId?: string }, response: ServerResponse) {
    const action = target.replace(/^secretsmanager\./, '');
    calls.push(`SecretsManager.${action}`);
    const name = input.SecretId ?? '';
    const value = options.secrets?.[name];
    const send = (status: number, body: unknown, errorType?: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      response.end(JSON.stringify(body));
    };
    if (action !== 'DescribeSecret' && action !== 'GetSecretValue') {
      send(
        400,
        { __type: 'InvalidRequestException', message: `${action} is not answered here` },
        'InvalidRequestException',
      );
      return;
    }
    if (value === undefined) {
      send(
        400,
        { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
        'ResourceNotFoundException',
      );
      return;
    }
    if (action === 'DescribeSecret')
      send(200, { ARN: arn(name), Name: name, LastChangedDate: 1_785_000_000 });
    else
      send(200, {
        ARN: arn(name),
        Name: name,
        SecretString: value,
        VersionId: 'v1',
        CreatedDate: 1_785_000_000,
      });
  }

  function cloudFormation(form: URLSearchParams, response: ServerResponse) {
    const action = form.get('Action') ?? '';
    calls.push(`CloudFormation.${action}`);
    const name = form.get('StackName') ?? '';
    const outputs = options.stacks?.[name];
    response.setHeader('content-type', 'text/xml');
    if (action !== 'DescribeStacks' || !outputs) {
      response.statusCode = 400;
      response.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${escapeXml(name)} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
      );
      return;
    }
    const members = Object.entries(outputs)
      .map(
        ([key, value]) =>
          `<member><OutputKey>${escapeXml(key)}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`,
      )
      .join('');
    response.end(
      '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>' +
        `<StackName>${escapeXml(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${escapeXml(name)}/1</StackId>` +
        `<CreationTime>2026-11-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>` +
        '</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>',
    );
  }

  const server: Server = createServer((request, response) => {
    bodyOf(request).then(
      (body) => {
        const target = request.headers['x-amz-target'];
        if (typeof target === 'string' && target.startsWith('secretsmanager.')) {
          secretsManager(target, JSON.parse(body || '{}') as { SecretId?: string }, response);
        } else if (typeof target === 'string' && target.startsWith(CLOUDWATCH_TARGET_PREFIX)) {
          const action = target.slice(CLOUDWATCH_TARGET_PREFIX.length);
          calls.push(`CloudWatch.${action}`);
          cloudWatch.handle(action, request.headers, body, response);
        } else {
          cloudFormation(new URLSearchParams(body), response);
        }
      },
      () => response.writeHead(500).end(),
    );
  });
  return {
    endpoint: await listen(server),
    calls,
    metricDataRequests: cloudWatch.requests,
    close: () => shut(server),
  };
}
