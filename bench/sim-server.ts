/**
 * Child process of the benchmark: Bandwidth simulators on loopback, one per requested account,
 * every recording ready and no faults. Kept out of the measuring process so generating audio
 * does not compete with the contenders for its event loop. Prints the accounts as one JSON
 * line, then serves until its stdin closes (the parent ended).
 */
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../local/simulators/bandwidth.ts';
import { sampleRecordings } from '../local/simulators/base.ts';

export interface SimSpec {
  accountId: string;
  count: number;
  durationSec: number;
}

const specs = JSON.parse(process.argv[2] ?? '[]') as SimSpec[];
const accounts = [];
for (const spec of specs) {
  const simulator = new BandwidthSimulator({
    recordings: sampleRecordings(spec.count, {
      prefix: spec.accountId,
      durationSec: spec.durationSec,
      // Bandwidth lists at most 1000 per call, oldest first: one second apart keeps them distinct.
      spacingMs: 1000,
      makeId: (index) => `r-${spec.accountId}-${String(index).padStart(6, '0')}`,
    }),
  });
  await simulator.start();
  accounts.push(bandwidthSimulatorAccount(simulator, spec.accountId));
}
process.stdout.write(`${JSON.stringify(accounts)}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
