/** Things a test started, stopped after it (or after the file) in reverse order of starting. */
import { afterAll, afterEach } from 'vitest';

export type Stop = () => Promise<void> | void;

/** Registers an afterEach (default) or afterAll hook; returns the function that defers a stop. */
export function teardown(when: 'each' | 'all' = 'each'): (stop: Stop) => void {
  const stops: Stop[] = [];
  (when === 'each' ? afterEach : afterAll)(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  return (stop) => {
    stops.push(stop);
  };
}

/** Starts a simulator or server and defers its stop. */
export async function started<S extends { start(): Promise<unknown>; stop(): Promise<void> }>(
  server: S,
  stopLater: (stop: Stop) => void,
): Promise<S> {
  await server.start();
  stopLater(() => server.stop());
  return server;
}
