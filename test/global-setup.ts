/**
 * Tests that spawn `bin/callvault.mjs` run the build in dist/ (tsc's output, and the CLI's bundle
 * made from it): rebuild both when any source file is newer than its compiled counterpart (or has
 * none) or than the bundle, so a test never runs stale JavaScript.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const mtime = (path: string) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

export function staleBuild(root = ROOT): string | undefined {
  const bundledAt = mtime(join(root, 'dist/cli/inputs.json'));
  if (bundledAt === undefined) return 'the CLI bundle is missing';
  for (const source of ['bin', 'lib', 'lambdas', 'local'].flatMap((dir) => sources(join(root, dir)))) {
    const built = join(root, 'dist', relative(root, source).replace(/\.ts$/, '.js'));
    const builtAt = mtime(built);
    if (builtAt === undefined) return `${relative(root, built)} is missing`;
    const changedAt = statSync(source).mtimeMs;
    if (changedAt > builtAt || changedAt > bundledAt) return `${relative(root, source)} changed`;
  }
  return undefined;
}

export default function setup(): void {
  const stale = staleBuild();
  if (!stale) return;
  console.log(`building dist/ (${stale})…`);
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  execFileSync(process.execPath, [join(ROOT, 'scripts/bundle-cli.mjs')], { cwd: ROOT, stdio: 'inherit' });
}
