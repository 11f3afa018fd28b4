/**
 * One process owns a data directory's servers (dynalite's LevelDB lock). A second command on it
 * while the first runs without `serve` is refused with a sentence, not dynalite's stack trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalIndex } from '../../local/stack.ts';
import { runCli } from '../helpers/cli.ts';
import { OFFLINE_ACCOUNT, removeDir, startTestStack, type TestStack, tempDir } from '../helpers/stack.ts';

describe('a data directory another process owns', () => {
  const dataDir = tempDir('owned');
  const inUse = `callvault: data directory ${dataDir} is in use by another callvault process (a harvest, backfill or another command); wait for it, or run \`callvault serve\` there and the other commands attach to it`;
  let owner: TestStack;

  beforeAll(async () => {
    // As a harvest holds it: servers of its own, no serve.json.
    owner = await startTestStack([OFFLINE_ACCOUNT], { dataDir });
  });
  afterAll(async () => {
    await owner?.close();
    removeDir(dataDir);
  });

  it('refuses `recordings list` with exit 2 and a sentence naming the directory', async () => {
    const listed = await runCli(['recordings', 'list', '--data-dir', dataDir], { timeout: 30_000 });
    expect(listed.code).toBe(2);
    expect(listed.stderr).toContain(inUse);
    expect(listed.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses a harvest, whose servers start in a worker thread, the same way', async () => {
    const config = join(dataDir, 'config.json');
    writeFileSync(config, JSON.stringify({ accounts: [OFFLINE_ACCOUNT] }));
    const harvested = await runCli(['harvest', '--config', config, '--data-dir', dataDir], {
      timeout: 45_000,
    });
    expect(harvested.code).toBe(2);
    expect(harvested.stderr).toContain(inUse);
    expect(harvested.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('refuses a second owner in the same process too', async () => {
    await expect(openLocalIndex(dataDir)).rejects.toMatchObject({
      name: 'DataDirectoryError',
      message: inUse.replace('callvault: ', ''),
    });
  });
});
