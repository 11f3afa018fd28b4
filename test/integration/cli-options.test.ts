import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const callvault = (...args: string[]) => runCli(args, { timeout: 110_000 });

describe('recordings url --expires', () => {
  it('rejects a non-number and a negative, naming the option, before opening any archive', async () => {
    const values = ['abc', '-5'];
    const results = await Promise.all(
      values.map((value) =>
        callvault('recordings', 'url', 'some-id', `--expires=${value}`, '--data-dir', '/nonexistent'),
      ),
    );
    for (const [position, result] of results.entries()) {
      expect(result.code, values[position]).not.toBe(0);
      expect(result.stderr).toContain(
        `--expires must be whole seconds from 1 to 604800, got "${values[position]}"`,
      );
      expect(result.stdout).toBe('');
    }
  }, 120_000);
});
