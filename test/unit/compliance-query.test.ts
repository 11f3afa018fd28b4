/** The search API and the workflow's check step with compliance fields and erased entries. */
import { describe, expect, it } from 'vitest';
import { firstRound } from '../../lambdas/core/hand-over.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import { checkReadiness } from '../../lambdas/core/ingest.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { parseRecordingQuery } from '../../lambdas/core/query.ts';
import type { HttpEvent } from '../../lambdas/handlers/http.ts';
import { createQueryHandler } from '../../lambdas/handlers/query.ts';
import { FakeIndex } from './fakes.ts';

const ref = { accountId: 'vb-main', provider: 'voipbin' as const, providerRecordingId: 'r-1' };
const tombstone: IndexEntry = {
  id: recordingId(ref),
  ...ref,
  status: 'erased',
  reason: 'GDPR request',
  erasedAt: '2026-12-01T10:00:00.000Z',
  sha256: 'a'.repeat(64),
  deletedAtSourceAt: '2026-11-30T05:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
};

describe('erased entries', () => {
  it('status=erased is a search filter like the others', () => {
    expect(parseRecordingQuery({ status: 'erased' }).status).toBe('erased');
    expect(() => parseRecordingQuery({ status: 'deleted' })).toThrow(/archived, skipped, failed, erased/);
  });

  it('the search API answers with erasedAt, deletedAtSourceAt and legalHold where set', async () => {
    const index = new FakeIndex();
    index.entries.set(tombstone.id, tombstone);
    const held = {
      ...tombstone,
      id: 'held',
      status: 'archived' as const,
      legalHold: { by: 'legal', at: '2026-12-01T09:00:00.000Z' },
    };
    index.entries.set('held', held);
    const handler = createQueryHandler({ index, signer: { presign: async () => 'https://example.invalid' } });
    const answer = await handler({
      routeKey: 'GET /recordings',
      queryStringParameters: {},
    } as unknown as HttpEvent);
    const items = JSON.parse(answer.body as string).items as IndexEntry[];
    expect(items).toContainEqual(
      expect.objectContaining({
        erasedAt: tombstone.erasedAt,
        deletedAtSourceAt: tombstone.deletedAtSourceAt,
      }),
    );
    expect(items).toContainEqual(expect.objectContaining({ id: 'held', legalHold: held.legalHold }));
  });

  it('the check step ends an erased recording as done without asking the provider; no retry round is handed out', async () => {
    const index = new FakeIndex();
    index.entries.set(tombstone.id, tombstone);
    const state = await checkReadiness(
      { ref },
      {
        index,
        readiness: { initialDelaySeconds: 1, maxDelaySeconds: 1, deadlineSeconds: 10 },
        adapterFor: async () => {
          throw new Error('the provider must not be asked about an erased recording');
        },
      },
    );
    expect(state).toMatchObject({ decision: 'done', reason: 'erased' });
    expect(firstRound(tombstone)).toBeUndefined();
  });
});
