/** The index table's GSIs: one per filter, each projecting the listing, never the raw record. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  INDEX_NAMES,
  INDEX_PARTITIONS,
  INDEX_SORT_KEYS,
  PROJECTED_ATTRIBUTES,
} from '../../lambdas/core/names.ts';
import { synthesizeTemplate } from '../../local/template.ts';

describe('the recording index GSIs', () => {
  let indexes: {
    IndexName: string;
    KeySchema: { AttributeName: string; KeyType: string }[];
    Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
  }[];
  beforeAll(async () => {
    const template = await synthesizeTemplate({
      accounts: [
        {
          id: 'vb',
          provider: 'voipbin',
          baseUrl: 'https://api.voipbin.net',
          timeZone: 'UTC',
          schedule: 'rate(15 minutes)',
          auth: { token: 't' },
        },
      ],
      readiness: { initialDelaySeconds: 30, maxDelaySeconds: 900, deadlineSeconds: 172_800 },
      retry: { maxAttempts: 8, initialDelaySeconds: 900, maxDelaySeconds: 86_400, schedule: 'rate(1 hour)' },
    });
    const [table] = Object.values(template.Resources).filter(
      (resource) => resource.Type === 'AWS::DynamoDB::Table',
    );
    indexes = table?.Properties?.GlobalSecondaryIndexes as typeof indexes;
  });

  it('has the sparse status index, the sharded time index, and projects the listing only (no raw)', () => {
    expect(indexes.map((index) => index.IndexName).sort()).toEqual(Object.values(INDEX_NAMES).sort());
    for (const index of indexes) {
      expect(index.KeySchema).toEqual([
        {
          AttributeName: INDEX_PARTITIONS[index.IndexName as keyof typeof INDEX_PARTITIONS],
          KeyType: 'HASH',
        },
        { AttributeName: INDEX_SORT_KEYS[index.IndexName as keyof typeof INDEX_SORT_KEYS], KeyType: 'RANGE' },
      ]);
      expect(index.Projection).toEqual({
        ProjectionType: 'INCLUDE',
        NonKeyAttributes: [...PROJECTED_ATTRIBUTES],
      });
      expect(index.Projection.NonKeyAttributes).not.toContain('raw');
    }
    expect(INDEX_PARTITIONS.byStatus).toBe('openStatus');
    expect(INDEX_PARTITIONS.byTime).toBe('timeShard');
    expect(INDEX_PARTITIONS.byProvider).toBe('providerShard');
    // A day's manifest reads that day's archives only, sharded like the time index.
    expect([INDEX_PARTITIONS.byArchived, INDEX_SORT_KEYS.byArchived]).toEqual(['timeShard', 'archivedAt']);
    expect(Object.entries(INDEX_SORT_KEYS).filter(([, key]) => key !== 'sortKey')).toEqual([
      ['byArchived', 'archivedAt'],
    ]);
  });
});
