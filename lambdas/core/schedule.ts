/**
 * EventBridge schedule expressions, `rate(...)` and `cron(...)`: validated in the config (so a
 * bad one fails before `cdk deploy`) and evaluated by the local scheduler of `callvault serve`.
 */
import awsCronParser from 'aws-cron-parser';

export type Schedule =
  | { kind: 'rate'; everyMs: number }
  | { kind: 'cron'; cron: ReturnType<typeof awsCronParser.parse> };

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** Parses an expression, with EventBridge's rules (`rate(1 minute)`, `rate(5 minutes)`). */
export function parseSchedule(expression: string): Schedule {
  const rate = expression.match(/^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] as string;
    const singular = unit.replace(/s$/, '') as keyof typeof UNIT_MS;
    if (value < 1) throw new Error(`"${expression}": the rate must be at least 1`);
    if ((value === 1) !== (unit === singular)) {
      throw new Error(
        `"${expression}": EventBridge wants "${value} ${value === 1 ? singular : `${singular}s`}"`,
      );
    }
    return { kind: 'rate', everyMs: value * UNIT_MS[singular] };
  }
  const cron = expression.match(/^cron\((.+)\)$/);
  if (cron) {
    const fields = (cron[1] as string).trim().split(/\s+/);
    if (fields.length !== 6)
      throw new Error(`"${expression}": a cron expression has 6 fields (minutes to year)`);
    if (!fields[2]?.includes('?') && !fields[4]?.includes('?')) {
      throw new Error(`"${expression}": day-of-month or day-of-week must be "?"`);
    }
    try {
      return { kind: 'cron', cron: awsCronParser.parse(cron[1] as string) };
    } catch {
      throw new Error(`"${expression}" is not a valid cron expression`);
    }
  }
  throw new Error(`"${expression}" is neither rate(...) nor cron(...)`);
}

/** The first run strictly after `after` (a rate counts from `start`). */
export function nextRun(schedule: Schedule, after: Date, start: Date = after): Date | undefined {
  if (schedule.kind === 'rate') {
    const periods = Math.floor((after.getTime() - start.getTime()) / schedule.everyMs) + 1;
    return new Date(start.getTime() + periods * schedule.everyMs);
  }
  return awsCronParser.next(schedule.cron, new Date(after.getTime() + 1000)) ?? undefined;
}
