/**
 * Child process of the start-up benchmark: the local stack's S3 server (s3rver, same patches) on
 * its own, for the contenders that are not callvault (a bare SDK stream, rclone). Prints its
 * endpoint, then serves until stdin closes.
 */
import { startLocalServers } from '../local/servers.ts';

const [dataDir = '', bucket = ''] = process.argv.slice(2);
// The bench's own server, not a callvault data directory: the contenders sign with these.
const servers = await startLocalServers(dataDir, [bucket], {
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
});
process.stdout.write(`${servers.s3Endpoint}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
