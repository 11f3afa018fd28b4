/** Picks the adapter for an account's provider. */
import type { AccountConfig } from '../core/config.ts';
import type { AdapterOptions, ProviderAdapter } from './adapter.ts';
import { createBandwidthAdapter } from './bandwidth.ts';
import { createDialogtechAdapter } from './dialogtech.ts';
import { createInfobipAdapter } from './infobip.ts';
import { createRestcommAdapter } from './restcomm.ts';
import { createVoipbinAdapter } from './voipbin.ts';

export type { ProviderAdapter } from './adapter.ts';

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
