/** Also run under TZ=America/Los_Angeles (npm test): the window must not move with the host's zone. */
import { describe, expect, it } from 'vitest';
import { backfillWindow } from '../../bin/commands/backfill.ts';

describe('backfill --since/--until', () => {
  it('reads a time without an offset as UTC, whatever the host zone, and keeps an explicit offset', async () => {
    expect(await backfillWindow({ since: '2024-03-10T00:00:00', until: '2024-03-10 09:10' })).toEqual({
      since: '2024-03-10T00:00:00.000Z',
      until: '2024-03-10T09:10:00.000Z',
    });
    expect(await backfillWindow({ since: '2024-03-09', until: '2024-03-10T02:30:00-08:00' })).toEqual({
      since: '2024-03-09T00:00:00.000Z',
      until: '2024-03-10T10:30:00.000Z',
    });
  });

  it('refuses a date that does not exist rather than rolling it over, naming the option', async () => {
    await expect(backfillWindow({ since: '2026-02-30' })).rejects.toThrow(
      '--since must be a date or ISO-8601 time, got "2026-02-30"',
    );
    await expect(backfillWindow({ since: '2026-01-01', until: 'March 10' })).rejects.toThrow(
      /--until must be/,
    );
    await expect(backfillWindow({ since: '2026-01-02', until: '2026-01-01' })).rejects.toThrow(
      '--until must be after --since',
    );
  });

  it('ends at the end of today (UTC) without --until: run again that day, the same window resumes', async () => {
    const morning = Date.parse('2026-12-04T00:10:00Z');
    const evening = Date.parse('2026-12-04T23:50:00Z');
    const [first, again] = await Promise.all([
      backfillWindow({ since: '2026-11-01' }, morning),
      backfillWindow({ since: '2026-11-01' }, evening),
    ]);
    expect(first).toEqual({ since: '2026-11-01T00:00:00.000Z', until: '2026-12-05T00:00:00.000Z' });
    expect(again).toEqual(first);
  });
});
