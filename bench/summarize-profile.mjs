// Summarizes a .cpuprofile: self time per function and per module (package or project file).
// Usage: node bench/summarize-profile.mjs file.cpuprofile [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const moduleOf = (url) => {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url.split('/')[0];
  const m = url.match(/\/(bench|local|lambdas|lib|bin)\/.*$/);
  return m ? m[0].slice(1) : url;
};
const fns = new Map();
const mods = new Map();
for (const [id, us] of self) {
  const { callFrame } = byId.get(id);
  const mod = moduleOf(callFrame.url);
  const fn = `${callFrame.functionName || '(anonymous)'} ${mod}:${callFrame.lineNumber + 1}`;
  fns.set(fn, (fns.get(fn) ?? 0) + us);
  mods.set(mod, (mods.get(mod) ?? 0) + us);
}
const print = (title, map) => {
  console.log(`\n${title} (total ${(total / 1e6).toFixed(2)} s sampled)`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`,
    );
};
print('self time by module', mods);
print('self time by function', fns);

// Owner of each sample: the nearest frame (leaf upwards) that is not Node's own code or native,
// so a native stat called by s3rver counts for s3rver.
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const owners = new Map();
const ownerOf = (id) => {
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const mod = moduleOf(byId.get(at).callFrame.url);
    if (mod !== '(native/vm)' && !mod.startsWith('node:')) return mod;
  }
  const name = byId.get(id).callFrame.functionName;
  return `(${name || 'native'})`;
};
for (const [id, us] of self) {
  const owner = ownerOf(id);
  owners.set(owner, (owners.get(owner) ?? 0) + us);
}
print('self time by owner (Node internals and native code charged to their nearest caller module)', owners);

// Subsystem of each sample, from every module on its stack (servers first: their stacks start at
// a socket event, so a client frame on the same stack means the client is the one working).
const subsystems = [
  ['s3rver (S3 server: koa, fs)', ['s3rver', 'koa', '@koa/router', 'koa-compose', 'fs-extra', 'graceful-fs']],
  ['dynalite (DynamoDB server: LevelDB)', ['dynalite', 'classic-level', 'abstract-level', 'level-sublevel']],
  ['aws-local-stepfunctions (ASL interpreter)', ['aws-local-stepfunctions', 'jsonpath-plus']],
  ['local/step-functions.ts (shim, journal)', ['local/step-functions.ts']],
  [
    'AWS SDK clients (middleware, signing, XML/JSON)',
    [
      '@smithy/core',
      '@aws-sdk/core',
      '@smithy/signature-v4',
      '@smithy/node-http-handler',
      '@smithy/smithy-client',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-sfn',
      '@aws-sdk/xml-builder',
      '@aws-sdk/middleware-sdk-s3',
      '@aws-sdk/lib-storage',
    ],
  ],
  ['undici (provider HTTP client)', ['undici', 'lambdas/providers/http.ts']],
];
const stackModules = (id) => {
  const mods = [];
  for (let at = id; at !== undefined; at = parent.get(at)) mods.push(moduleOf(byId.get(at).callFrame.url));
  return mods;
};
const bySubsystem = new Map();
const examples = new Map();
for (const [id, us] of self) {
  const mods = stackModules(id);
  const hit = subsystems.find(([, members]) => members.some((m) => mods.includes(m)));
  const name = hit ? hit[0] : `other: ${ownerOf(id)}`;
  bySubsystem.set(name, (bySubsystem.get(name) ?? 0) + us);
  if (!examples.has(name)) examples.set(name, mods.slice(0, 6).join(' < '));
}
print('self time by subsystem (any frame on the stack)', bySubsystem);
if (process.env.EXAMPLES) for (const [k, v] of examples) console.log(k, '::', v);

// With DRILL=<module>: inclusive time of each function of that module (outermost occurrence).
if (process.env.DRILL) {
  const inclusive = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { callFrame } = byId.get(at);
      if (moduleOf(callFrame.url) !== process.env.DRILL) continue;
      const fn = `${callFrame.functionName || '(anonymous)'}:${callFrame.lineNumber + 1}`;
      if (seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
    }
  }
  print(`inclusive time by function of ${process.env.DRILL}`, inclusive);
}
