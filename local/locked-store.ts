/**
 * The local archive store: S3ArchiveStore on s3rver, which has no Object Lock and no versioning,
 * so this store enforces S3 Object Lock's rules itself. Each object's lock state (its legal hold,
 * and the retention it was given when written under a default retention) is a small JSON
 * document under `_locks/`, next to the objects: every process using the data directory sees it.
 * A held object, or one inside its retention, is neither deleted nor overwritten (without
 * versions an overwrite would destroy the old bytes); governance retention yields to an explicit
 * bypass, compliance retention to nothing.
 */
import { NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { type ArchiveWrite, S3ArchiveStore } from '../lambdas/aws/s3-store.ts';
import type { RetentionConfig } from '../lambdas/core/config.ts';
import { ObjectLockedError } from '../lambdas/core/errors.ts';
import type { ObjectState, RetentionMode, StoredObject } from '../lambdas/core/ports.ts';

const LOCKS_PREFIX = '_locks/';

interface LockState {
  legalHold?: boolean;
  retention?: { mode: RetentionMode; until: string };
}

export class LocalArchiveStore extends S3ArchiveStore {
  constructor(
    s3: S3Client,
    bucket: string,
    private readonly retention?: RetentionConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    super(s3, bucket);
  }

  override async write(...write: ArchiveWrite): Promise<void> {
    const [key] = write;
    await this.refuseIfLocked(key, 'overwrite');
    await super.write(...write);
    await this.lockOnWrite(key);
  }

  /**
   * S3 applies a default retention with the write itself; here the lock is a second write, which
   * a crash can separate from the first. The archive step finds such an object again before it
   * downloads (its recovery): it is given its retention then, so none stays unlocked.
   */
  override async find(keyPrefix: string): Promise<StoredObject | undefined> {
    const found = await super.find(keyPrefix);
    if (found && this.retention && !(await this.lockOf(found.key)).retention)
      await this.lockOnWrite(found.key);
    return found;
  }

  override async putDocument(
    key: string,
    body: string,
    contentType: string,
  ): Promise<{ versionId?: string }> {
    await this.refuseIfLocked(key, 'overwrite');
    const written = await super.putDocument(key, body, contentType);
    await this.lockOnWrite(key);
    return written;
  }

  override async head(key: string): Promise<ObjectState | undefined> {
    const state = await super.head(key);
    if (!state) return undefined;
    const lock = await this.lockOf(key);
    return { ...state, legalHold: lock.legalHold ?? false, retention: lock.retention };
  }

  /** Without versioning, an existing object is the one version there is. */
  override async versions(key: string): Promise<(string | null)[]> {
    return (await super.head(key)) ? [null] : [];
  }

  /** Without versioning, a deleted object is gone: nothing is hidden. */
  override async *hiddenKeys(_prefix: string): AsyncIterable<string> {}

  override async deleteVersion(
    key: string,
    _versionId: string | null,
    options: { bypassGovernance?: boolean } = {},
  ): Promise<void> {
    await this.refuseIfLocked(key, 'delete', options.bypassGovernance);
    await super.deleteVersion(key, null);
    await super.deleteVersion(lockKey(key), null);
  }

  override async setLegalHold(key: string, on: boolean): Promise<void> {
    const lock = await this.lockOf(key);
    await this.saveLock(key, { ...lock, legalHold: on || undefined });
  }

  private async refuseIfLocked(key: string, action: string, bypassGovernance = false): Promise<void> {
    const lock = await this.lockOf(key);
    if (lock.legalHold) throw new ObjectLockedError(`${key} is under legal hold: no ${action}`);
    const retention = lock.retention;
    if (retention && Date.parse(retention.until) > this.now().getTime()) {
      if (retention.mode === 'governance' && bypassGovernance) return;
      throw new ObjectLockedError(
        `${key} is inside its ${retention.mode}-mode retention until ${retention.until}: no ${action}`,
      );
    }
  }

  private async lockOnWrite(key: string): Promise<void> {
    if (!this.retention) return;
    const until = new Date(this.now().getTime() + this.retention.days * 86_400_000).toISOString();
    const lock = await this.lockOf(key);
    await this.saveLock(key, { ...lock, retention: { mode: this.retention.mode, until } });
  }

  private async lockOf(key: string): Promise<LockState> {
    try {
      const body = await super.readVersion(lockKey(key));
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as LockState;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return {};
      throw error;
    }
  }

  private async saveLock(key: string, lock: LockState): Promise<void> {
    await super.putDocument(lockKey(key), JSON.stringify(lock), 'application/json');
  }
}

function lockKey(key: string): string {
  return `${LOCKS_PREFIX}${key}.json`;
}
