/** The local execution journal survives a crash mid-append (issue 8, item 8). */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomCredentials } from '../../local/sigv4.ts';
import { LocalStepFunctions, readJournal } from '../../local/step-functions.ts';

const passThrough = {
  definition: { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } },
  taskHandlers: {},
};

describe('the local execution journal', () => {
  const dirs: string[] = [];
  const journalIn = () => {
    const dir = mkdtempSync(join(tmpdir(), 'callvault-journal-'));
    dirs.push(dir);
    return join(dir, 'executions.jsonl');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('ignores a torn last line, cuts it off, and starts and resumes as before', async () => {
    const path = journalIn();
    writeFileSync(
      path,
      `${JSON.stringify({ event: 'started', name: 'a', input: { n: 1 } })}\n` +
        `${JSON.stringify({ event: 'started', name: 'b', input: { n: 2 } })}\n` +
        `${JSON.stringify({ event: 'ended', name: 'b', status: 'SUCCEEDED' })}\n` +
        '{"event":"started","name":"c","inp',
    );
    const stepFunctions = new LocalStepFunctions({
      local: passThrough,
      handlers: {},
      journalPath: path,
      credentials: randomCredentials(),
    });
    const resumed = stepFunctions.resumeUnfinished();
    expect(resumed.map((execution) => execution.name)).toEqual(['a']);
    expect(() => stepFunctions.start('b', {})).toThrow(/Already Exists/);
    // The torn entry never counted: its name is free, and the new line is whole.
    const started = stepFunctions.start('c', { n: 3 });
    await Promise.all([...resumed, started].map((execution) => execution.done));
    const entries = readJournal(path);
    expect(entries.map((entry) => `${entry.event} ${entry.name}`)).toEqual([
      'started a',
      'started b',
      'ended b',
      'started c',
      'ended a',
      'ended c',
    ]);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('ends a whole last entry whose newline was not written before appending', () => {
    const path = journalIn();
    writeFileSync(path, JSON.stringify({ event: 'started', name: 'a', input: {} }));
    expect(readJournal(path).map((entry) => entry.name)).toEqual(['a']);
    appendFileSync(path, `${JSON.stringify({ event: 'ended', name: 'a', status: 'FAILED' })}\n`);
    expect(readJournal(path).map((entry) => entry.event)).toEqual(['started', 'ended']);
  });

  it('refuses a damaged line before the last, naming it, rather than forget executions', () => {
    const path = journalIn();
    writeFileSync(
      path,
      `{"event":"started","name":"a","input":{}}\nnot json\n{"event":"ended","name":"a","status":"SUCCEEDED"}\n`,
    );
    expect(() => readJournal(path)).toThrow(/damaged at line 2/);
  });
});
