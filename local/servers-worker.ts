/**
 * The worker thread that runs the local S3 and DynamoDB servers (see startLocalServers): it
 * starts them with the data it is given, posts their endpoints, and closes them when told.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ServersRequest, startServersHere } from './servers.ts';

const port = parentPort;
if (!port) throw new Error('servers-worker runs as a worker thread');
const { dataDir, buckets, credentials } = workerData as ServersRequest;
try {
  const servers = await startServersHere(dataDir, buckets, credentials);
  // Told to close: closing the port too lets the thread end, which is what the caller waits for.
  port.once('message', async () => {
    await servers.close();
    port.close();
  });
  port.postMessage({ s3Endpoint: servers.s3Endpoint, dynamoEndpoint: servers.dynamoEndpoint });
} catch (error) {
  // The name too: the caller rebuilds the errors the CLI reports as expected (DataDirectoryError).
  const failure = error instanceof Error ? error : new Error(String(error));
  port.postMessage({ error: failure.message, name: failure.name });
  port.close();
}
