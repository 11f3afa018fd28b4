/**
 * A process killed mid-download cannot release its provider slots. The local stack owns its data
 * directory alone, so the next one to start frees them instead of waiting out their 90 s leases
 * (which, with the workflow's busy backoff on top, once stalled a resumed backfill past 2 min).
 */
import { describe, expect, it } from 'vitest';
import { DynamoProviderSlots } from '../../lambdas/aws/dynamo-slots.ts';
import { LOCAL_TABLE } from '../../local/stack.ts';
import { OFFLINE_ACCOUNT, removeDir, startTestStack, tempDir } from '../helpers/stack.ts';
import { teardown } from '../helpers/teardown.ts';

const later = teardown();

describe('provider slots after a kill', () => {
  it('a new stack on the data directory frees the slots a dead run still held', async () => {
    const dataDir = tempDir('slots');
    later(() => removeDir(dataDir));
    const first = await startTestStack([OFFLINE_ACCOUNT], { dataDir });
    // No in-process wait: a taken slot answers ProviderBusyError at once.
    const slotsOf = (stack: typeof first) =>
      new DynamoProviderSlots(stack.archive.dynamo, LOCAL_TABLE, { waitMs: 0 });
    const dead = slotsOf(first);
    for (let slot = 0; slot < 2; slot += 1) await dead.acquire(OFFLINE_ACCOUNT.id, 2);
    await expect(dead.acquire(OFFLINE_ACCOUNT.id, 2)).rejects.toMatchObject({ name: 'ProviderBusyError' });
    // The "killed" run never releases its leases.
    await first.close({ waitForExecutions: false });

    const second = await startTestStack([OFFLINE_ACCOUNT], { dataDir });
    later(() => second.close());
    const lease = await slotsOf(second).acquire(OFFLINE_ACCOUNT.id, 2);
    expect(lease).toBeDefined();
  }, 60_000);
});
