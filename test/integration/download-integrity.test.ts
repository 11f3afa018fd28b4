/**
 * Issue 8 items 9 and 13 on the local stack (synthesized workflow, s3rver, dynalite): a body
 * that ends cleanly short of its RIFF length is never stored or indexed as archived, and a
 * download redirected to a foreign host never puts that host's words in the index.
 */
import { describe, expect, it } from 'vitest';
import { objectKeyPrefix, recordingId } from '../../lambdas/core/ids.ts';
import { harvest } from '../../local/harvest.ts';
import { CANARY_TEXT, CanaryServer } from '../../local/simulators/canary.ts';
import { accountOf, simulatorOf } from '../helpers/simulators.ts';
import { startTestStack } from '../helpers/stack.ts';
import { started, teardown } from '../helpers/teardown.ts';

const later = teardown();

async function setup(allowedDownloadHosts?: string[]) {
  const simulator = await started(simulatorOf('voipbin', 1, { prefix: 'vb', durationSec: 2 }), later);
  const canary = await started(new CanaryServer(), later);
  const stack = await startTestStack([{ ...accountOf('voipbin', simulator, 'vb'), allowedDownloadHosts }]);
  later(() => stack.dispose());
  return { simulator, canary, stack };
}

/** Every audio request redirected to a storage host the account allows, answering `contentType`. */
async function redirectedToStorage(contentType?: string) {
  const storage = await started(new CanaryServer(contentType), later);
  const { simulator, stack } = await setup([new URL(storage.url).host]);
  simulator.inject({
    kind: 'redirect',
    on: 'audio',
    location: `${storage.url}/bucket/vb-00000.wav`,
    times: Number.POSITIVE_INFINITY,
  });
  return { storage, stack };
}

const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
// Each test starts its own local stack; the first in a worker also builds the state machine.
const STACK_TEST_MS = 90_000;

describe('download integrity on the local stack', () => {
  it(
    'never archives a WAV whose chunked body keeps ending cleanly at half its RIFF length',
    async () => {
      const { simulator, stack } = await setup();
      simulator.inject({
        kind: 'short-chunked',
        on: 'audio',
        fraction: 0.5,
        times: Number.POSITIVE_INFINITY,
      });

      const first = await harvest(stack);
      expect(first[0]).toMatchObject({ archived: 0, failed: 1 });
      const failed = await stack.runtime.index.get(recordingId(ref));
      expect(failed).toMatchObject({ status: 'failed', errorName: 'IncompleteDownloadError' });
      expect(failed?.reason).toContain('but its RIFF size declares 32044');
      expect(failed?.sha256).toBeUndefined();
      expect(await stack.runtime.store.find(objectKeyPrefix(ref, failed?.startedAt))).toBeUndefined();
      // Retried by the workflow as a transient failure before it was recorded.
      expect(simulator.count('audio')).toBeGreaterThan(1);

      simulator.clearFaults();
      const second = await harvest(stack);
      expect(second[0]).toMatchObject({ archived: 1, failed: 0 });
      const archived = (await stack.runtime.index.query({ accountId: 'vb' })).items[0];
      expect(archived).toMatchObject({
        status: 'archived',
        bytes: 32_044,
        sha256: simulator.audio('vb-00000').sha256(),
      });
    },
    STACK_TEST_MS,
  );

  it(
    'refuses a redirect to a foreign loopback canary: recorded failed, the canary never asked',
    async () => {
      const { simulator, canary, stack } = await setup();
      simulator.inject({
        kind: 'redirect',
        on: 'audio',
        location: `${canary.url}/latest/meta-data/iam/security-credentials/`,
        times: Number.POSITIVE_INFINITY,
      });
      const summary = await harvest(stack);
      expect(summary[0]).toMatchObject({ archived: 0, failed: 1 });
      const page = await stack.runtime.index.query({ accountId: 'vb' });
      expect(page.items[0]).toMatchObject({ status: 'failed', errorName: 'ForbiddenAddressError' });
      expect(page.items[0]?.reason).toContain('refused to connect to');
      expect(canary.hits).toEqual([]);
      // Not retried: asking again cannot make the address acceptable.
      expect(simulator.count('audio')).toBe(1);
    },
    STACK_TEST_MS,
  );

  it(
    'keeps an allowed storage host’s body out of the index and the search API',
    async () => {
      const { storage: canaryHost, stack } = await redirectedToStorage();
      const summary = await harvest(stack);
      expect(summary[0]).toMatchObject({ archived: 0, failed: 1 });
      expect(canaryHost.hits.length).toBeGreaterThan(0);
      const page = await stack.runtime.index.query({ accountId: 'vb' });
      expect(page.items[0]?.reason).toContain('not shown');
      expect(JSON.stringify(page)).not.toContain(CANARY_TEXT);
      expect(JSON.stringify(summary)).not.toContain(CANARY_TEXT);
    },
    STACK_TEST_MS,
  );

  it(
    'does not quote the first bytes of a non-audio file from a storage host either',
    async () => {
      const { stack } = await redirectedToStorage('audio/wav');
      const summary = await harvest(stack);
      expect(summary[0]).toMatchObject({ archived: 0, failed: 1 });
      const entry = (await stack.runtime.index.query({ accountId: 'vb' })).items[0];
      expect(entry).toMatchObject({ status: 'failed', errorName: 'InvalidAudioError' });
      expect(entry?.reason).toContain('is not audio (audio/wav)');
      expect(JSON.stringify(entry)).not.toContain('AccessKeyId');
    },
    STACK_TEST_MS,
  );
});
