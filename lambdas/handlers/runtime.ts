/**
 * What the handlers work with. The local stack builds one Runtime from its local clients; in
 * Lambda each handler takes only the parts it uses from `environment.ts`, so its bundle carries
 * only the SDK clients it calls.
 */
import type { ReadinessConfig } from '../core/config.ts';
import { jsonLogger, type Logger } from '../core/log.ts';
import { type Metrics, silentMetrics } from '../core/metrics.ts';
import type {
  AccountDirectory,
  ArchiveStore,
  ComplianceStore,
  ProviderAdapter,
  ProviderSlots,
  RecordingIndex,
  SweepLedger,
  WorkflowStarter,
} from '../core/ports.ts';
import type { SweepJournal } from '../core/status.ts';
import type { AdapterOptions } from '../providers/adapter.ts';
import { adapterCache } from '../providers/index.ts';

export interface Runtime {
  accounts: AccountDirectory;
  index: RecordingIndex;
  store: ArchiveStore;
  starter: WorkflowStarter;
  /** Sweep checkpoints and leases. */
  ledger: SweepLedger;
  /** Starts sweep executions (a pass continuing in a new execution). */
  sweepStarter: WorkflowStarter;
  readiness: ReadinessConfig;
  /** Bounds checks and downloads per account across every execution. */
  slots?: ProviderSlots;
  logger: Logger;
  metrics: Metrics;
  sweeps: SweepJournal;
  adapterFor(accountId: string): Promise<ProviderAdapter>;
}

/** What a daily job over every account (reconcile, delete-at-source) works with. */
export interface AccountJobDeps<Source, Index> {
  accounts: AccountDirectory;
  adapterFor(accountId: string): Promise<Source>;
  index: Index;
  store: ComplianceStore;
  logger: Logger;
  /** Where EMF metric lines go (stdout in Lambda). */
  emit?: (line: string) => void;
}

export interface RuntimeParts extends Omit<Runtime, 'adapterFor' | 'logger' | 'metrics'> {
  logger?: Logger;
  /** Locally nothing reads metrics: none are emitted unless a test asks for them. */
  metrics?: Metrics;
  adapterOptions?: AdapterOptions;
}

export function createRuntime(parts: RuntimeParts): Runtime {
  const logger = parts.logger ?? jsonLogger;
  return {
    ...parts,
    logger,
    metrics: parts.metrics ?? silentMetrics,
    adapterFor: adapterCache(parts.accounts, { logger, ...parts.adapterOptions }),
  };
}

/** Memoizes a factory: a Lambda container builds each client once. */
export function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

/** A handler whose dependencies are built on its first event, once per Lambda container. */
export function builtOnce<E, R, C>(make: () => (event: E, context?: C) => R): (event: E, context?: C) => R {
  const built = once(make);
  return (event, context) => built()(event, context);
}
