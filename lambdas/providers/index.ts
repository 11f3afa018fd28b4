/** Picks the adapter for an account's provider. */
import type { AccountConfig } from '../core/config.ts';
import type { AccountDirectory, ProviderAdapter } from '../core/ports.ts';
import type { AdapterOptions } from './adapter.ts';
import { createBandwidthAdapter } from './bandwidth.ts';
import { createDialogtechAdapter } from './dialogtech.ts';
import { createInfobipAdapter } from './infobip.ts';
import { createRestcommAdapter } from './restcomm.ts';
import { createVoipbinAdapter } from './voipbin.ts';

export function createAdapter(account: AccountConfig, options: AdapterOptions = {}): ProviderAdapter {
  switch (account.provider) {
    case 'infobip':
      return createInfobipAdapter(account, options);
    case 'dialogtech':
      return createDialogtechAdapter(account, options);
    case 'voipbin':
      return createVoipbinAdapter(account, options);
    case 'restcomm':
      return createRestcommAdapter(account, options);
    case 'bandwidth':
      return createBandwidthAdapter(account, options);
  }
}

/**
 * One adapter per account, built on first use. The directory hands out a new account object when
 * credentials were rotated, and then a new adapter is built.
 */
export function adapterCache(
  accounts: AccountDirectory,
  options: AdapterOptions = {},
): (accountId: string) => Promise<ProviderAdapter> {
  const adapters = new Map<string, { account: AccountConfig; adapter: ProviderAdapter }>();
  return async (accountId) => {
    const account = await accounts.get(accountId);
    const cached = adapters.get(accountId);
    if (cached?.account === account) return cached.adapter;
    const adapter = createAdapter(account, options);
    adapters.set(accountId, { account, adapter });
    return adapter;
  };
}
