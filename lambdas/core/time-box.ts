/** A job's time box: start nothing new once the clock (default `Date.now`) reads `deadline` (epoch ms). */
export interface TimeBox {
  deadline: number;
  clock?: () => number;
}

/** Whether the time box is spent; without one, never. */
export function isSpent(box: TimeBox | undefined): boolean {
  return box !== undefined && (box.clock ?? Date.now)() >= box.deadline;
}
