/**
 * The state machine and table definitions the local stack runs, synthesized from the CDK code
 * once per code and config rather than on every run: CDK's import and synthesis take seconds and
 * hundreds of MB, a cached definition a millisecond. The cache (`workflows.json` in the data
 * directory) is keyed by a SHA-256 of every file the template derives from (lib/, lambdas/ and
 * template.ts, source or build alike), the aws-cdk-lib and constructs versions, and the deploy
 * config (the part of the config that reaches the template, e.g. readiness bounds the workflow's
 * timeout). Any change to either is a miss and a fresh synthesis. A test proves a cached
 * definition equals a fresh synth (test/integration/definitions.test.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type CallvaultConfig, type DeployConfig, deployConfig } from '../lambdas/core/config.ts';
import type { LocalWorkflows } from './template.ts';

const CACHE_FILE = 'workflows.json';
const ROOT = join(import.meta.dirname, '..');

/** Sorted keys at every level: the same config always serializes to the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hashTree(hash: ReturnType<typeof createHash>, root: string, path: string): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) hashTree(hash, root, join(path, name));
    return;
  }
  hash.update(`${path.slice(root.length)}\0`);
  hash.update(readFileSync(path));
  hash.update('\0');
}

let fingerprint: string | undefined;

/** SHA-256 of the code the template derives from, as it is on disk where this module runs. */
export function codeFingerprint(root = ROOT): string {
  if (root === ROOT && fingerprint) return fingerprint;
  const hash = createHash('sha256');
  for (const directory of ['lib', 'lambdas']) hashTree(hash, root, join(root, directory));
  const template = readdirSync(join(root, 'local')).find((name) => /^template\.[jt]s$/.test(name));
  if (template) hashTree(hash, root, join(root, 'local', template));
  const require = createRequire(import.meta.url);
  for (const name of ['aws-cdk-lib', 'constructs']) {
    const { version } = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
      version: string;
    };
    hash.update(`${name}@${version}\0`);
  }
  const digest = hash.digest('hex');
  if (root === ROOT) fingerprint = digest;
  return digest;
}

/** The cache key of a config's definitions: the code's fingerprint and the deploy config. */
export function workflowsKey(config: CallvaultConfig | DeployConfig): string {
  return createHash('sha256')
    .update(codeFingerprint())
    .update('\0')
    .update(canonicalJson(deployConfig.parse(config)))
    .digest('hex');
}

interface CacheFile extends LocalWorkflows {
  key: string;
}

/** In this process: a harvest after a harvest (and the tests) reuse what was read or built. */
const inProcess = new Map<string, Promise<LocalWorkflows>>();

/** Synthesizes the stack for this config and extracts its workflows (the slow path). */
export async function synthesizeWorkflows(config: CallvaultConfig | DeployConfig): Promise<LocalWorkflows> {
  const [{ localWorkflows, synthesizeTemplate }, { StateMachine }] = await Promise.all([
    import('./template.ts'),
    import('aws-local-stepfunctions'),
  ]);
  const workflows = localWorkflows(await synthesizeTemplate(config));
  // Validated here, once per synthesis (compiling the ASL schema costs half a second): every run
  // from the cache then skips it (LocalStepFunctions). A copy: validation fills in defaults, and
  // what is cached is what CDK synthesized.
  for (const { definition } of Object.values(workflows.stateMachines))
    new StateMachine(structuredClone(definition) as never, { validationOptions: { checkArn: false } });
  return workflows;
}

function readCache(file: string, key: string): LocalWorkflows | undefined {
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (cached.key !== key) return undefined;
    return { stateMachines: cached.stateMachines, table: cached.table };
  } catch {
    return undefined; // absent, or torn by a killed writer: synthesize again
  }
}

/**
 * The workflows for this config: from this process, from the data directory's cache, or
 * synthesized (and then cached). `source` says which, for tests and the bench.
 */
export async function loadWorkflows(
  config: CallvaultConfig | DeployConfig,
  dataDir: string,
): Promise<LocalWorkflows & { source: 'process' | 'cache' | 'synth' }> {
  const key = workflowsKey(config);
  const file = join(dataDir, CACHE_FILE);
  const known = inProcess.get(key);
  if (known) return { ...(await known), source: 'process' };
  const cached = readCache(file, key);
  if (cached) {
    inProcess.set(key, Promise.resolve(cached));
    return { ...cached, source: 'cache' };
  }
  const building = synthesizeWorkflows(config);
  inProcess.set(key, building);
  let workflows: LocalWorkflows;
  try {
    workflows = await building;
  } catch (error) {
    inProcess.delete(key);
    throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  // Written whole, then renamed: a reader never sees half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify({ key, ...workflows } satisfies CacheFile));
  renameSync(partial, file);
  return { ...workflows, source: 'synth' };
}

/** Forgets what this process read or built (tests: the next load goes to the data directory). */
export function forgetLoadedWorkflows(): void {
  inProcess.clear();
}
