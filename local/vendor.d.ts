// Minimal types for the two local AWS emulators, which ship none.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    directory?: string;
    silent?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** The node:http server, once `run` has resolved. */
    httpServer: import('node:http').Server;
  }
}

declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}

/** s3rver's internals that local/s3rver-patches.ts patches and local/servers.ts registers keys in. */
declare module 's3rver/lib/stores/filesystem.js' {
  const store: unknown;
  export default store;
}
declare module 's3rver/lib/models/object.js' {
  const S3Object: unknown;
  export default S3Object;
}
declare module 's3rver/lib/models/account.js' {
  const account: { DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void } };
  export default account;
}
