/**
 * s3rver in front of which ListObjectVersions is answered as S3 answers it for a bucket that was
 * never versioned: each object listed is its one version, id "null", with no delete markers.
 * s3rver refuses the call (MethodNotAllowed), which the deployed S3 store makes before writing
 * a manifest; every other request is passed through unchanged, Host header included, so
 * signatures and presigned links stay valid.
 */
import { createServer, request as forward, type IncomingMessage } from 'node:http';
import { paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { listen, shut } from '../helpers/http-server.ts';
import { escapeXml } from './aws-shims.ts';

export interface S3VersionsProxy {
  endpoint: string;
  close(): Promise<void>;
}

export async function startS3VersionsProxy(
  upstream: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<S3VersionsProxy> {
  const target = new URL(upstream);
  const s3 = new S3Client({ endpoint: upstream, region: 'us-east-1', credentials, forcePathStyle: true });
  const send = (incoming: IncomingMessage) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = forward(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        resolve,
      );
      outgoing.on('error', reject);
      incoming.pipe(outgoing);
    });

  const server = createServer(async (incoming, response) => {
    try {
      const url = new URL(incoming.url ?? '/', 'http://proxy');
      if (incoming.method !== 'GET' || !url.searchParams.has('versions')) {
        const answer = await send(incoming);
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        return;
      }
      // Path style: /<bucket>/?versions&prefix=… . The whole listing in one answer: what the
      // tests hold is small, so no KeyMarker paging.
      const versions: string[] = [];
      const pages = paginateListObjectsV2(
        { client: s3 },
        { Bucket: url.pathname.split('/')[1], Prefix: url.searchParams.get('prefix') ?? '' },
      );
      for await (const page of pages)
        for (const object of page.Contents ?? [])
          versions.push(
            `<Version><Key>${escapeXml(object.Key ?? '')}</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><Size>${object.Size}</Size></Version>`,
          );
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(
        `<ListVersionsResult><IsTruncated>false</IsTruncated>${versions.join('')}</ListVersionsResult>`,
      );
    } catch (error) {
      response.writeHead(500, { 'content-type': 'application/xml' });
      response.end(`<Error><Code>InternalError</Code><Message>${escapeXml(String(error))}</Message></Error>`);
    }
  });
  return {
    endpoint: await listen(server),
    close: async () => {
      s3.destroy();
      await shut(server);
    },
  };
}
