/** Resolves once every promise has settled, or after `ms`, whichever comes first. */
export async function settledWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled(promises), bound]);
  clearTimeout(timer);
}
