/**
 * Powertools for AWS Lambda behind the core's ports: structured logs with the request id at the
 * function's log level, EMF metrics (lambdas/core/metrics.ts), X-Ray traces of the SDK clients
 * and of provider HTTP calls (undici's diagnostics channels). Only the deployed handlers use
 * this; the local stack and the CLI keep their own loggers.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import type { Logger } from '../core/log.ts';
import { DIMENSIONS, METRICS, METRICS_NAMESPACE, METRICS_SERVICE, type Metrics } from '../core/metrics.ts';

/** The fields are written as the log item's own keys (Powertools' reserved ones are not used). */
export function powertoolsLogger(logger: PowertoolsLogger): Logger {
  return {
    info: (event, fields) => logger.info(event, fields),
    warn: (event, fields) => logger.warn(event, fields),
    error: (event, fields) => logger.error(event, fields),
  };
}

/**
 * One EMF document per data point, published at once: a handler never loses metrics to a crash
 * before a flush, and each point carries its own account and provider. Two dimension sets: per
 * account and provider, and the whole service (what the service-wide alarms read).
 */
export function powertoolsMetrics(metrics: PowertoolsMetrics): Metrics {
  return {
    add(name, value, dimensions) {
      const point = metrics.singleMetric();
      point.addDimension(DIMENSIONS.account, dimensions.account);
      point.addDimension(DIMENSIONS.provider, dimensions.provider);
      point.addDimensions({});
      point.addMetric(name, METRICS[name].unit, value);
    },
  };
}

/** The parts of an X-Ray (sub)segment the HTTP tracing uses. */
export interface TraceSegment {
  addNewSubsegment(name: string): TraceSubsegment;
}
export interface TraceSubsegment {
  addAttribute(name: string, value: unknown): void;
  addErrorFlag(): void;
  addFaultFlag(): void;
  addThrottleFlag(): void;
  addError(error: Error, remote?: boolean): void;
  close(): void;
  http?: unknown;
}

interface UndiciRequest {
  origin?: string | URL;
  method?: string;
}

/**
 * A subsegment per provider request (the transport uses undici, whose requests publish on these
 * channels). Only the origin and method are recorded: paths can hold account identifiers the
 * transport redacts, and no trace header goes to a third party.
 */
export function traceUndiciRequests(currentSegment: () => TraceSegment | undefined): void {
  const open = new WeakMap<object, TraceSubsegment>();
  const take = (request: object) => {
    const subsegment = open.get(request);
    open.delete(request);
    return subsegment;
  };
  subscribe('undici:request:create', (message) => {
    const { request } = message as { request: UndiciRequest };
    if (!request.origin || request.method === 'CONNECT') return;
    const parent = currentSegment();
    if (!parent) return;
    const origin = new URL(String(request.origin));
    const subsegment = parent.addNewSubsegment(origin.hostname);
    subsegment.addAttribute('namespace', 'remote');
    subsegment.http = { request: { url: origin.origin, method: request.method } };
    open.set(request, subsegment);
  });
  subscribe('undici:request:headers', (message) => {
    const { request, response } = message as { request: object; response: { statusCode: number } };
    const subsegment = take(request);
    if (!subsegment) return;
    const status = response.statusCode;
    subsegment.http = { ...(subsegment.http as object), response: { status } };
    if (status === 429) subsegment.addThrottleFlag();
    if (status >= 400 && status < 500) subsegment.addErrorFlag();
    else if (status >= 500) subsegment.addFaultFlag();
    subsegment.close();
  });
  subscribe('undici:request:error', (message) => {
    const { request, error } = message as { request: object; error: unknown };
    const subsegment = take(request);
    if (!subsegment) return;
    subsegment.addErrorFlag();
    if (error instanceof Error) subsegment.addError(error, true);
    subsegment.close();
  });
}

export interface Observability {
  powertools: PowertoolsLogger;
  tracer: Tracer;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Loaded on the first invocation, not at import: the local stack and the CLI import the handler
 * modules too, and Powertools (with the X-Ray SDK) would cost them ~0.1 s of start-up for nothing.
 */
async function load(): Promise<Observability> {
  const [{ Logger }, { Metrics }, { Tracer }] = await Promise.all([
    import('@aws-lambda-powertools/logger'),
    import('@aws-lambda-powertools/metrics'),
    import('@aws-lambda-powertools/tracer'),
  ]);
  const logger = new Logger({ serviceName: METRICS_SERVICE });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  // Powertools' own fetch tracing would record full URLs; ours records origins (see above).
  const tracer = new Tracer({ serviceName: METRICS_SERVICE, captureHTTPsRequests: false });
  if (tracer.isTracingEnabled()) traceUndiciRequests(() => tracer.getSegment() as TraceSegment | undefined);
  return {
    powertools: logger,
    tracer,
    logger: powertoolsLogger(logger),
    metrics: powertoolsMetrics(metrics),
  };
}

let loading: Promise<Observability> | undefined;
let loaded: Observability | undefined;

/** The container's Powertools objects; `lambdaHandler` loads them before any handler code runs. */
export function observability(): Observability {
  if (!loaded)
    throw new Error('observability() was used outside lambdaHandler: Powertools is not loaded yet');
  return loaded;
}

/** Wraps a handler: request id in every log item, a subsegment per invocation, failures logged. */
export function lambdaHandler<E, R>(name: string, run: (event: E, context?: Context) => Promise<R>) {
  return async (event: E, context?: Context): Promise<R> => {
    loading ??= load();
    loaded ??= await loading;
    const { powertools, tracer, logger } = loaded;
    if (context) powertools.addContext(context);
    const segment = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    const subsegment = segment?.addNewSubsegment(`## ${name}`);
    if (subsegment) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      return await run(event, context);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      // Warn, not error: typed errors such as RecordingNotReadyError are how the workflow routes
      // (Retry/Catch); Lambda's own Errors metric and the alarms count real failures.
      logger.warn('invocation failed', { handler: name, error: failure.name, reason: failure.message });
      if (subsegment) tracer.addErrorAsMetadata(failure);
      throw error;
    } finally {
      if (segment && subsegment) {
        subsegment.close();
        tracer.setSegment(segment);
      }
    }
  };
}
