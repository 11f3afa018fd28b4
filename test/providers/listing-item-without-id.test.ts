/**
 * Issue 8 item 6: `recordingId` (Bandwidth) and `id` (VoIPBin) are optional in the providers'
 * OpenAPI schemas; Infobip's `url` and Restcomm's and DialogTech's `sid` are always in their references, but a
 * provider that leaves one out once must not lose the rest either. One item without its id must
 * not fail the whole listing (and so every later sweep at the same place): it is skipped with a
 * warning naming the account and the page.
 */
import { describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../lambdas/core/log.ts';
import type { ProviderAdapter } from '../../lambdas/core/ports.ts';
import { listPages } from '../../lambdas/providers/adapter.ts';
import { createBandwidthAdapter } from '../../lambdas/providers/bandwidth.ts';
import { createDialogtechAdapter } from '../../lambdas/providers/dialogtech.ts';
import { createInfobipAdapter } from '../../lambdas/providers/infobip.ts';
import { createRestcommAdapter } from '../../lambdas/providers/restcomm.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import {
  DialogtechSimulator,
  dialogtechRecordings,
  dialogtechSimulatorAccount,
} from '../../local/simulators/dialogtech.ts';
import { InfobipSimulator, infobipSimulatorAccount } from '../../local/simulators/infobip.ts';
import { RestcommSimulator, restcommSimulatorAccount } from '../../local/simulators/restcomm.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { FAST } from '../helpers/retry.ts';
import { collect, listAll } from '../helpers/streams.ts';
import { started, teardown } from '../helpers/teardown.ts';

const START = new Date('2026-11-01T09:00:00.000Z');

function recordingLogger(): { logger: Logger; warnings: Array<{ message: string; fields?: LogFields }> } {
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  return {
    warnings,
    logger: { info() {}, warn: (message, fields) => warnings.push({ message, fields }), error() {} },
  };
}

async function ids(adapter: ProviderAdapter): Promise<string[]> {
  return (await listAll(adapter)).map((recording) => recording.providerRecordingId).sort();
}

/** The one warning the listing logged: the skipped item, named by account and page. */
function expectOneWarning(
  warnings: Array<{ message: string; fields?: LogFields }>,
  message: string,
  fields: LogFields,
): void {
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.message).toContain(message);
  expect(warnings[0]?.fields).toMatchObject(fields);
}

const later = teardown();

describe('a listing item without its id', () => {
  it('Bandwidth: is skipped and reported with account and page; the other recordings are listed', async () => {
    const recordings = sampleRecordings(4, { start: START });
    const sim = await started(new BandwidthSimulator({ recordings }), later);
    sim.listWithoutId('rec-00001');
    const { logger, warnings } = recordingLogger();
    const adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim, 'bw-main'), { ...FAST, logger });

    expect(await ids(adapter)).toEqual(['rec-00000', 'rec-00002', 'rec-00003']);
    expectOneWarning(warnings, 'without a recordingId', {
      account: 'bw-main',
      provider: 'bandwidth',
      item: 1,
      callId: 'call-rec-1',
      page: expect.stringContaining('/api/v2/accounts/***/recordings'),
    });
    // The next sweep fails no more than this one did.
    expect(await ids(adapter)).toHaveLength(3);
  });

  it('VoIPBin: is skipped and reported with account and page; paging goes on past it', async () => {
    const recordings = sampleRecordings(5, {
      start: START,
      makeId: (index) => `0c5f000${index}-2ac9-4702-84f0-ae81301ad349`,
    });
    const sim = await started(new VoipbinSimulator({ recordings }), later);
    const idless = recordings[3]?.id as string;
    sim.listWithoutId(idless);
    const { logger, warnings } = recordingLogger();
    // Two items a page: the item without an id is on the first page, three more pages follow.
    const adapter = createVoipbinAdapter(voipbinSimulatorAccount(sim, 'vb-main'), {
      ...FAST,
      logger,
      pageSize: 2,
    });

    const listed = await ids(adapter);
    expect(listed).toEqual(
      recordings
        .map((r) => r.id)
        .filter((id) => id !== idless)
        .sort(),
    );
    expectOneWarning(warnings, 'without an id', {
      account: 'vb-main',
      provider: 'voipbin',
      item: 1,
      referenceId: 'call-rec-3',
      page: expect.stringContaining('/v1.0/recordings?page_size=2'),
    });
  });

  it('Infobip: is skipped and reported; a page holding only such files does not end the listing', async () => {
    const recordings = sampleRecordings(6, { start: START });
    const sim = await started(new InfobipSimulator({ recordings }), later);
    // Newest first, two a page: the first page holds rec-00005 and rec-00004, both without a url.
    sim.listWithoutId('rec-00005');
    sim.listWithoutId('rec-00004');
    const { logger, warnings } = recordingLogger();
    const adapter = createInfobipAdapter(infobipSimulatorAccount(sim, 'ib-main'), {
      ...FAST,
      logger,
      pageSize: 2,
    });

    expect(await ids(adapter)).toEqual(['rec-00000', 'rec-00001', 'rec-00002', 'rec-00003']);
    expect(warnings.map((warning) => warning.fields)).toEqual([
      expect.objectContaining({ account: 'ib-main', provider: 'infobip', item: 0, messageId: 'call-rec-5' }),
      expect.objectContaining({ account: 'ib-main', provider: 'infobip', item: 1, messageId: 'call-rec-4' }),
    ]);
    expect(warnings[0]?.fields?.page).toContain('/voice/ivr/1/files?page=1&pageSize=2');
    expect(warnings[0]?.message).toContain('without a url');
    // The sweep's checkpointed paging goes on past that page too.
    const paged = await collect(listPages(adapter.listPage, {}));
    expect(paged.map((recording) => recording.providerRecordingId).sort()).toEqual(await ids(adapter));
  });

  it('Restcomm: is skipped and reported; paging goes on past it', async () => {
    const recordings = sampleRecordings(6, { start: START });
    // Oldest first, two a page.
    const sim = await started(new RestcommSimulator({ recordings }), later);
    sim.listWithoutId('rec-00001');
    sim.listWithoutId('rec-00003');
    const { logger, warnings } = recordingLogger();
    const adapter = createRestcommAdapter(restcommSimulatorAccount(sim, 'rc-main'), {
      ...FAST,
      logger,
      pageSize: 2,
    });

    expect(await ids(adapter)).toEqual(['rec-00000', 'rec-00002', 'rec-00004', 'rec-00005']);
    // One that ends a page is read again by the listing from its second (nothing names it).
    expect(new Set(warnings.map((warning) => warning.fields?.callSid))).toEqual(
      new Set(['call-rec-1', 'call-rec-3']),
    );
    for (const warning of warnings) {
      expect(warning.fields).toMatchObject({ account: 'rc-main', provider: 'restcomm' });
      expect(warning.fields?.page).toContain('/Recordings.json?');
      expect(warning.message).toContain('without a sid');
    }
  });

  it('DialogTech: is skipped and reported with account and list; the rest of the list is listed', async () => {
    const recordings = dialogtechRecordings(3, { start: START });
    const sim = await started(new DialogtechSimulator({ recordings }), later);
    const idless = recordings[1]?.id as string;
    sim.listWithoutId(idless);
    const { logger, warnings } = recordingLogger();
    const adapter = createDialogtechAdapter(dialogtechSimulatorAccount(sim, 'dt-main'), { ...FAST, logger });

    expect(await ids(adapter)).toEqual(
      recordings
        .map((recording) => recording.id)
        .filter((id) => id !== idless)
        .sort(),
    );
    expectOneWarning(warnings, 'without a sid', {
      account: 'dt-main',
      provider: 'dialogtech',
      list: 'recorded_calls 1',
      item: 1,
    });
  });
});
