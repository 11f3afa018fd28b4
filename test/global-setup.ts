/**
 * Tests that spawn `bin/callvault.mjs` run the build in dist/: rebuild it when any source file is
 * newer than its compiled counterpart (or has none), so a test never runs stale JavaScript.
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

export function staleBuild(root = ROOT): string | undefined {
  for (const source of ['bin', 'lib', 'lambdas', 'local'].flatMap((dir) => sources(join(root, dir)))) {
    const built = join(root, 'dist', relative(root, source).replace(/\.ts$/, '.js'));
    let builtAt: number;
    try {
      builtAt = statSync(built).mtimeMs;
    } catch {
      return `${relative(root, built)} is missing`;
    }
    if (statSync(source).mtimeMs > builtAt) return `${relative(root, source)} changed`;
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
}
