import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'callvault-startup-'));

/** What each file of the CLI's bundle (dist/cli/) holds, as scripts/bundle-cli.mjs recorded it. */
const bundled = JSON.parse(readFileSync(join(ROOT, 'dist/cli/inputs.json'), 'utf8')) as Record<
  string,
  string[]
>;

/**
 * Runs the CLI from a directory of the user's (no package.json or lock file of callvault's: the
 * first run's synthesis must still find callvault's own); resolves with its output, exit code and
 * the project-relative modules it loaded: a file of the bundle counts as the modules it holds.
 */
async function callvault(...args: string[]) {
  const log = join(work, `modules-${process.hrtime.bigint()}.log`);
  writeFileSync(log, '');
  const result = await runCli(args, {
    timeout: 90_000,
    cwd: work,
    env: { MODULE_LOG: log },
    nodeArgs: ['--import', join(import.meta.dirname, 'module-log.mjs')],
  });
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file://'))
    .map((url) => new URL(url).pathname.slice(ROOT.length + 1))
    .flatMap((path) => bundled[path] ?? [path]);
  return { ...result, modules };
}

const packagesOf = (modules: string[]) =>
  [
    ...new Set(modules.flatMap((path) => path.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? [])),
  ].sort();

/** What reading the archive must never load: CDK, the workflow interpreter, simulators, handlers. */
const WORKFLOW_ONLY = [
  /^node_modules\/aws-cdk-lib\//,
  /^node_modules\/constructs\//,
  /^node_modules\/aws-local-stepfunctions\//,
  /^dist\/lib\//,
  /^dist\/local\/(simulators\/|step-functions|definitions)/,
  /^dist\/lambdas\/handlers\//,
];

/** What reading the index alone must not load either: the S3 server and client. */
const STORE_ONLY = [
  /^node_modules\/s3rver\//,
  /^node_modules\/koa\//,
  /^node_modules\/@aws-sdk\/client-s3\//,
];

describe('CLI start-up', () => {
  let simulator: VoipbinSimulator;
  let config: string;

  beforeAll(async () => {
    simulator = new VoipbinSimulator({ recordings: sampleRecordings(2, { prefix: 'su' }) });
    await simulator.start();
    config = join(work, 'config.json');
    writeFileSync(config, JSON.stringify({ accounts: [voipbinSimulatorAccount(simulator, 'vb')] }));
  });

  afterAll(async () => {
    await simulator?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs the build: --help loads commander and the command definitions, nothing else', async () => {
    const help = await callvault('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('recordings');
    expect(help.modules).toContain('dist/bin/cli.js');
    expect(help.modules.filter((path) => path.endsWith('.ts'))).toEqual([]);
    expect(packagesOf(help.modules)).toEqual(['commander']);
    expect(help.modules.filter((path) => path.startsWith('dist/local/'))).toEqual([]);
  });

  it('harvests with definitions synthesized once, then reads them from the data directory', async () => {
    const dataDir = join(work, 'archive');
    const first = await callvault('harvest', '--config', config, '--data-dir', dataDir);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/vb\s+voipbin\s+2\s+2\s+0\s+0\s+0/);
    expect(packagesOf(first.modules)).toContain('aws-cdk-lib');

    const again = await callvault('harvest', '--config', config, '--data-dir', dataDir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/vb\s+voipbin\s+2\s+0\s+2\s+0\s+0/);
    expect(packagesOf(again.modules)).not.toContain('aws-cdk-lib');
    expect(again.modules).toContain('dist/local/step-functions.js');

    const listed = await callvault('recordings', 'list', '--json', '--data-dir', dataDir);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(2);
    for (const pattern of [...WORKFLOW_ONLY, ...STORE_ONLY])
      expect(listed.modules.filter((path) => pattern.test(path))).toEqual([]);

    const status = await callvault('status', '--data-dir', dataDir);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^vb\s+voipbin\s+\S+Z\s+succeeded\s/m);
    // CloudWatch is read by `status --deployed` only.
    expect(packagesOf(status.modules)).not.toContain('@aws-sdk/client-cloudwatch');
    expect(
      status.modules.filter((path) => path.includes('cloudwatch') || path.includes('status-metrics')),
    ).toEqual([]);
    for (const pattern of [...WORKFLOW_ONLY, ...STORE_ONLY])
      expect(status.modules.filter((path) => pattern.test(path))).toEqual([]);
    // `recordings get` does open the store: the patterns above do match what it loads.
    const id = (JSON.parse(listed.stdout) as { id: string }[])[0]?.id ?? '';
    const got = await callvault(
      'recordings',
      'get',
      id,
      '--output',
      join(work, 'got.wav'),
      '--data-dir',
      dataDir,
    );
    expect(got.code).toBe(0);
    for (const pattern of STORE_ONLY) expect(got.modules.some((path) => pattern.test(path))).toBe(true);
  }, 120_000);

  it('lists a new data directory without loading the workflow, and says there is no archive', async () => {
    const listed = await callvault('recordings', 'list', '--data-dir', join(work, 'new'));
    expect(listed.code).toBe(2);
    expect(listed.stderr).toContain('no archive in');
    for (const pattern of [...WORKFLOW_ONLY, ...STORE_ONLY])
      expect(listed.modules.filter((path) => pattern.test(path))).toEqual([]);
  });
});
