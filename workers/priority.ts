/**
 * Cheap work first, inside one process: while a cheap call runs, expensive
 * calls pause at their next batch boundary (`ExplainHooks.pause`), so a
 * Grad-CAM or a prediction waits for at most one batch of an occlusion or
 * a Score-CAM, not for all of it.
 *
 * @module
 */
import type { Lane } from "./scheduler.ts";

/** The gate between a process's cheap and expensive calls. */
export interface PriorityGate {
  /** Runs `work` as a call of `lane`; expensive work gets a `pause` that waits for cheap work. */
  run<T>(
    lane: Lane,
    work: (pause?: () => Promise<void>) => Promise<T>,
  ): Promise<T>;
  /** Cheap calls running now. */
  readonly light: number;
}

/**
 * Creates a gate.
 *
 * @example
 * ```ts
 * const gate = createPriorityGate();
 * await gate.run("heavy", (pause) => explainImage(deps, request, { pause }));
 * ```
 */
export function createPriorityGate(): PriorityGate {
  let light = 0;
  let waiters: (() => void)[] = [];
  const pause = (): Promise<void> =>
    light === 0
      ? Promise.resolve()
      : new Promise((resolve) => waiters.push(resolve));
  return {
    get light() {
      return light;
    },
    async run(lane, work) {
      if (lane === "heavy") return await work(pause);
      light++;
      try {
        return await work();
      } finally {
        if (--light === 0) {
          const ready = waiters;
          waiters = [];
          for (const resolve of ready) resolve();
        }
      }
    },
  };
}
