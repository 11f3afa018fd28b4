/** Runs provider requests inside one of the account's slots (see ProviderSlots). */
import { type AccountConfig, maxConcurrencyOf } from './config.ts';
import { ProviderBusyError } from './errors.ts';
import type { ProviderSlots } from './ports.ts';

export async function withProviderSlot<T>(
  slots: ProviderSlots | undefined,
  account: Pick<AccountConfig, 'id' | 'provider' | 'maxConcurrency'>,
  work: () => Promise<T>,
): Promise<T> {
  if (!slots) return work();
  const limit = maxConcurrencyOf(account);
  const lease = await slots.acquire(account.id, limit);
  try {
    return await work();
  } catch (error) {
    // A 429 that outlived the transport's retries: fewer slots for everyone, then the workflow
    // retries this recording later (ProviderBusyError), so it does not fail for it.
    // Best effort: failing to slow down must not hide the provider's answer.
    if (error instanceof ProviderBusyError && error.throttled)
      await slots.slowDown(account.id, limit, error.retryAfterMs).catch(() => undefined);
    throw error;
  } finally {
    // A lease that could not be released expires on its own.
    await lease.release().catch(() => undefined);
  }
}
