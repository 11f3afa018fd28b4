/**
 * Child process of the start-up benchmark: Bandwidth simulators on loopback, one per account,
 * every recording ready. Prints the accounts as one JSON line; then each stdin line
 * `{"accountId", "count", "durationSec"}` adds that many new recordings to the account and is
 * answered by one line `ok`, so a harvest can find new calls in a data directory already in use.
 */
import { createInterface } from 'node:readline';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../local/simulators/bandwidth.ts';
import { sampleRecordings } from '../local/simulators/base.ts';

export interface StartupSimSpec {
  accountId: string;
  count: number;
  durationSec: number;
}

const specs = JSON.parse(process.argv[2] ?? '[]') as StartupSimSpec[];
const simulators = new Map<string, { simulator: BandwidthSimulator; added: number }>();
const accounts = [];
const addTo = (spec: StartupSimSpec) => {
  const entry = simulators.get(spec.accountId);
  if (!entry) throw new Error(`no simulator for ${spec.accountId}`);
  const recordings = sampleRecordings(entry.added + spec.count, {
    prefix: spec.accountId,
    durationSec: spec.durationSec,
    spacingMs: 1000,
    makeId: (index) => `r-${spec.accountId}-${String(index).padStart(6, '0')}`,
  }).slice(entry.added);
  for (const recording of recordings) entry.simulator.add(recording);
  entry.added += spec.count;
};
for (const spec of specs) {
  const simulator = new BandwidthSimulator();
  await simulator.start();
  simulators.set(spec.accountId, { simulator, added: 0 });
  addTo(spec);
  accounts.push(bandwidthSimulatorAccount(simulator, spec.accountId));
}
process.stdout.write(`${JSON.stringify(accounts)}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  addTo(JSON.parse(line) as StartupSimSpec);
  process.stdout.write('ok\n');
});
lines.on('close', () => process.exit(0));
