/**
 * Retry delays shortened for tests: the same attempts and backoff shape, milliseconds instead of
 * seconds.
 */
export const FAST_RETRY = { minDelayMs: 5, maxDelayMs: 20 };

/** Adapter options with FAST_RETRY. */
export const FAST = { retry: FAST_RETRY };

/** One retry only, for tests that expect the failure to surface. */
export const ONE_RETRY = { retries: 1, minDelayMs: 5, maxDelayMs: 10 };
