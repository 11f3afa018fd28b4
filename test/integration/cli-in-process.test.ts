/**
 * The CLI's commands run in this process: createProgram() parses arguments it is given, so a
 * command is tested without a subprocess (test/integration/cli-startup.test.ts runs the build).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../bin/program.ts';
import { UsageError } from '../../lambdas/core/errors.ts';

const work = mkdtempSync(join(tmpdir(), 'callvault-in-process-'));

/** The program, every command's exits turned into thrown CommanderErrors and its output captured. */
function program() {
  const output: string[] = [];
  const capture = (command: Command) => {
    command
      .exitOverride()
      .configureOutput({ writeOut: (text) => output.push(text), writeErr: (text) => output.push(text) });
    command.commands.forEach(capture);
  };
  const built = createProgram();
  capture(built);
  return { built, output };
}

describe('CLI in-process', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('registers every command', async () => {
    const { built, output } = program();
    const help = built.parseAsync(['--help'], { from: 'user' });
    await expect(help).rejects.toBeInstanceOf(CommanderError);
    for (const command of [
      'harvest',
      'backfill',
      'recordings',
      'serve',
      'providers',
      'simulators',
      'demo',
      'status',
      'deploy-check',
      'reconcile',
      'delete-at-source',
      'manifest',
      'verify',
    ])
      expect(output.join('')).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('refuses an unknown status before anything opens', async () => {
    const { built, output } = program();
    const list = built.parseAsync(['recordings', 'list', '--status', 'lost', '--data-dir', work], {
      from: 'user',
    });
    await expect(list).rejects.toBeInstanceOf(CommanderError);
    expect(output.join('')).toContain('--status must be one of archived, skipped, failed, erased');
  });

  it('lists a data directory with no archive as a usage error', async () => {
    const { built } = program();
    const list = built.parseAsync(['recordings', 'list', '--data-dir', join(work, 'new')], { from: 'user' });
    await expect(list).rejects.toThrow(UsageError);
    await expect(list).rejects.toThrow(/no archive in .*new: run "callvault harvest"/);
  });
});
