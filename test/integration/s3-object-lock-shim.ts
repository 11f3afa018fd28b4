import { createServer, type IncomingMessage } from 'node:http';
import { listen, shut } from '../helpers/http-server.ts';

export interface LockedObject {
  versions: string[];
  legalHold: boolean;
  retention?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; until: string };
  /** A delete marker's version id: the object's current version, so listings leave it out. */
  deleteMarker?: string;
}

export interface ObjectLockShim {
  endpoint: string;
  objects: Map<string, LockedObject>;
  /** `METHOD key?subresource`, plus ` bypass` when BypassGovernanceRetention was sent. */
  calls: string[];
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startObjectLockShim(bucket: string): Promise<ObjectLockShim> {
  const objects = new Map<string, LockedObject>();
  const calls: string[] = [];
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://shim');
    const [, bucketName, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const body = await bodyOf(request);
    const bypass = request.headers['x-amz-bypass-governance-retention'] === 'true' ? ' bypass' : '';
    const sub = ['legal-hold', 'versions', 'versionId'].find((name) => url.searchParams.has(name));
    calls.push(`${request.method} ${key}${sub ? `?${sub}` : ''}${bypass}`);
    if (bucketName !== bucket) {
      response.writeHead(404, { 'content-type': 'application/xml' });
      response.end('<Error><Code>NoSuchBucket</Code><Message>no such bucket</Message></Error>');
      return;
    }
    if (request.method === 'GET' && url.searchParams.has('versions')) {
      const prefix = url.searchParams.get('prefix') ?? '';
      const versions = [...objects]
        .filter(([name]) => name.startsWith(prefix))
        .flatMap(([name, object]) =>
          object.versions.map(
            (versionId, i) =>
              `<Version><Key>${name}</Key><VersionId>${versionId}</VersionId><IsLatest>${!object.deleteMarker && i === object.versions.length - 1}</IsLatest><Size>1</Size></Version>`,
          ),
        );
      const markers = [...objects]
        .filter(([name, object]) => name.startsWith(prefix) && object.deleteMarker)
        .map(
          ([name, object]) =>
            `<DeleteMarker><Key>${name}</Key><VersionId>${object.deleteMarker}</VersionId><IsLatest>true</IsLatest></DeleteMarker>`,
        );
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(
        `<ListVersionsResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><IsTruncated>false</IsTruncated>${versions.join('')}${markers.join('')}</ListVersionsResult>`,
      );
      return;
    }
    if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const contents = [...objects]
        .filter(([name, object]) => name.startsWith(prefix) && !object.deleteMarker)
        .map(([name]) => name)
        .sort()
        .map((name) => `<Contents><Key>${name}</Key><Size>1</Size></Contents>`);
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(
        `<ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${contents.length}</KeyCount><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`,
      );
      return;
    }
    const object = objects.get(key);
    if (!object) {
      response.writeHead(404, { 'content-type': 'application/xml' });
      response.end(request.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    if (request.method === 'HEAD') {
      response.writeHead(200, {
        'content-length': '1',
        'x-amz-version-id': object.versions.at(-1) ?? 'null',
        'x-amz-object-lock-legal-hold': object.legalHold ? 'ON' : 'OFF',
        ...(object.retention
          ? {
              'x-amz-object-lock-mode': object.retention.mode,
              'x-amz-object-lock-retain-until-date': object.retention.until,
            }
          : {}),
      });
      response.end();
    } else if (request.method === 'PUT' && url.searchParams.has('legal-hold')) {
      object.legalHold = /<Status>ON<\/Status>/.test(body);
      response.writeHead(200).end();
    } else if (request.method === 'DELETE' && url.searchParams.has('versionId')) {
      const versionId = url.searchParams.get('versionId');
      const locked = object.retention && Date.parse(object.retention.until) > Date.now();
      if (object.legalHold || (locked && (object.retention?.mode === 'COMPLIANCE' || !bypass))) {
        response.writeHead(403, { 'content-type': 'application/xml' });
        response.end(
          '<Error><Code>AccessDenied</Code><Message>Access Denied because object protected by object lock.</Message></Error>',
        );
        return;
      }
      object.versions = object.versions.filter((version) => version !== versionId);
      if (object.versions.length === 0) objects.delete(key);
      response.writeHead(204).end();
    } else {
      response.writeHead(501, { 'content-type': 'application/xml' });
      response.end('<Error><Code>NotImplemented</Code><Message>not answered by the shim</Message></Error>');
    }
  });
  return { endpoint: await listen(server), objects, calls, close: () => shut(server) };
}
