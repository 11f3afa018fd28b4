/**
 * Bundles the CLI from tsc's output (dist/) into dist/cli/: one entry, the servers' worker, and
 * chunks split along the CLI's lazy imports, so a command still loads only what it uses. A harvest
 * then loads 71 files instead of resolving and compiling ~540 modules (most of them the AWS SDK's):
 * about 0.1 s less on every command (bench/results.md).
 *
 * Left outside the bundle, loaded from node_modules or dist/ as before:
 * - the CDK code (dist/lib/) and aws-cdk-lib/constructs: only a first run of a config synthesizes,
 *   and AppFunction finds its handlers' entry files relative to dist/lib/;
 * - dynalite, which requires its actions by computed name (s3rver is bundled: the patches in
 *   local/s3rver-patches.ts import the modules they patch, so they patch the bundle's copy).
 * dist/cli/ sits one level below dist/ like bin/ and local/, so every path a module derives from
 * import.meta.url (the worker's file, the definitions' code fingerprint) means what it did.
 * dist/cli/inputs.json maps each output file to the modules it holds (the start-up test reads it).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'cli');

/** Imports of the CDK code stay imports of tsc's files in dist/lib/. */
const cdkCodeOutside = {
  name: 'cdk-code-outside',
  setup(builder) {
    builder.onResolve({ filter: /\/lib\// }, ({ path, resolveDir }) => {
      const target = resolve(resolveDir, path);
      if (!target.startsWith(join(DIST, 'lib'))) return undefined;
      return { path: `../${relative(DIST, target)}`, external: true };
    });
  },
};

// Chunks are named by content hash: last build's would stay beside this one's.
rmSync(OUT, { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { callvault: 'dist/bin/cli.js', 'servers-worker': 'dist/local/servers-worker.js' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The SDK's ES module builds: smaller once tree-shaken, and no CommonJS interop to go wrong.
  mainFields: ['module', 'main'],
  external: ['aws-cdk-lib', 'constructs', 'dynalite'],
  plugins: [cdkCodeOutside],
  // Bundled CommonJS packages (commander, undici…) call require for Node's built-ins.
  banner: {
    js: "import { createRequire as __cvRequire } from 'node:module'; const require = __cvRequire(import.meta.url);",
  },
  chunkNames: 'chunk-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const inputs = Object.fromEntries(
  Object.entries(result.metafile.outputs)
    .filter(([output]) => output.endsWith('.js'))
    .map(([output, { inputs: held }]) => [relative(ROOT, output), Object.keys(held).sort()]),
);
writeFileSync(join(OUT, 'inputs.json'), `${JSON.stringify(inputs, null, 1)}\n`);
