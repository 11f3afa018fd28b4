import { describe, expect, it } from 'vitest';
import { executionName, objectKeyPrefix, recordingId } from '../../lambdas/core/ids.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';

const ref = (accountId: string, providerRecordingId: string): RecordingRef => ({
  accountId,
  provider: 'voipbin',
  providerRecordingId,
});
const NAME = /^[A-Za-z0-9_-]{1,80}$/;

describe('recordingId', () => {
  it('is 32 hex chars, deterministic and depends on both account and recording', () => {
    const id = recordingId(ref('vb-main', 'rec-1'));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(recordingId(ref('vb-main', 'rec-1'))).toBe(id);
    expect(recordingId(ref('vb-main', 'rec-2'))).not.toBe(id);
    expect(recordingId(ref('vb-other', 'rec-1'))).not.toBe(id);
    // The separator keeps ("a", "bc") and ("ab", "c") apart: their concatenations are equal.
    expect(recordingId(ref('a', 'bc'))).not.toBe(recordingId(ref('ab', 'c')));
  });

  it('ignores the provider and call id', () => {
    const base = ref('acc', 'r');
    expect(recordingId({ ...base, provider: 'bandwidth', callId: 'c-1' } as RecordingRef)).toBe(
      recordingId(base),
    );
  });
});

describe('executionName', () => {
  it('is the account plus the recording id', () => {
    const r = ref('vb-main', 'rec-1');
    expect(executionName(r)).toBe(`vb-main-${recordingId(r)}`);
    expect(executionName(r, 0)).toBe(executionName(r));
  });

  it('stays within 80 chars of [A-Za-z0-9-_] for long provider ids and odd account ids', () => {
    const longId = 'x'.repeat(96);
    const accounts = ['a'.repeat(64), 'acc.with.dots', 'über konto', 'emoji-😀-account', 'a/b:c@d', '_'];
    for (const accountId of accounts) {
      for (const round of [0, 1, 9, 10, 99]) {
        const name = executionName(ref(accountId, longId), round);
        expect(name).toMatch(NAME);
        expect(name.length).toBeLessThanOrEqual(80);
      }
    }
    expect(executionName(ref('acc.with.dots', longId))).toMatch(/^acc_with_dots-[0-9a-f]{32}$/);
  });

  it('keeps accounts apart that differ only after the truncated prefix', () => {
    const a = executionName(ref(`${'a'.repeat(40)}-one`, 'rec'));
    const b = executionName(ref(`${'a'.repeat(40)}-two`, 'rec'));
    expect(a).not.toBe(b);
    expect(a.startsWith('a'.repeat(40))).toBe(true);
  });

  it('adds a suffix per retry round', () => {
    const r = ref('vb-main', 'rec-1');
    expect(executionName(r, 1)).toBe(`${executionName(r)}-r1`);
    expect(executionName(r, 2)).toBe(`${executionName(r)}-r2`);
    expect(new Set([0, 1, 2, 3].map((round) => executionName(r, round))).size).toBe(4);
  });
});

describe('objectKeyPrefix', () => {
  it('files by the UTC start date', () => {
    expect(objectKeyPrefix(ref('vb-main', 'rec-1'), '2024-03-09T23:30:00.000Z')).toBe(
      'recordings/vb-main/2024/03/09/rec-1.',
    );
    expect(objectKeyPrefix(ref('vb-main', 'rec-1'), '2024-12-31T23:59:59.999Z')).toBe(
      'recordings/vb-main/2024/12/31/rec-1.',
    );
  });

  it('uses undated when the start is unknown or unusable', () => {
    expect(objectKeyPrefix(ref('vb-main', 'rec-1'), undefined)).toBe('recordings/vb-main/undated/rec-1.');
    expect(objectKeyPrefix(ref('vb-main', 'rec-1'), '')).toBe('recordings/vb-main/undated/rec-1.');
    expect(objectKeyPrefix(ref('vb-main', 'rec-1'), 'Mon, 6 Jan 2014')).toBe(
      'recordings/vb-main/undated/rec-1.',
    );
  });

  it('encodes ids so they cannot add folders', () => {
    const prefix = objectKeyPrefix(ref('acc', 'a/b?c d'), '2024-01-02T00:00:00.000Z');
    expect(prefix).toBe('recordings/acc/2024/01/02/a%2Fb%3Fc%20d.');
    expect(prefix.split('/')).toHaveLength(6);
  });
});
