/**
 * The one DynamoDB document client over a DynamoDBClient, with the project's marshalling options.
 * lib-dynamodb keeps a document client's options on the config object it shares with the
 * DynamoDBClient (aws/aws-sdk-js-v3#6545): a second `DynamoDBDocumentClient.from(client)` with
 * other options silently changes the first one's. Every adapter over one client therefore gets the
 * same document client, and so the same options, from here.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { translateThrottling } from './throttling.ts';

const clients = new WeakMap<DynamoDBClient, DynamoDBDocumentClient>();

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  let document = clients.get(client);
  if (!document) {
    // Optional fields of an entry (also inside its nested `listing` map) are left out, not refused.
    document = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    // Throttling that outlived the SDK's retries reaches the workflow as AwsThrottledError.
    translateThrottling(document, 'DynamoDB');
    clients.set(client, document);
  }
  return document;
}
