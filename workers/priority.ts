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
 * import assert from "node:assert/strict";
 * const gate = createPriorityGate();
 * const order: string[] = [];
 * const light = gate.run("light", async () => {
 *   order.push("light starts");
 *   await new Promise((resolve) => setTimeout(resolve, 20));
 *   order.push("light ends");
 * });
 * // An expensive call (in Lumen: explainImage(deps, request, { pause })) waits
 * // at each batch boundary while a cheap call runs.
 * const heavy = gate.run("heavy", async (pause) => {
 *   for (const batch of [1, 2]) {
 *     await pause!();
 *     order.push(`heavy batch ${batch}`);
 *   }
 * });
 * await Promise.all([heavy, light]);
 * assert.deepEqual(order, ["light starts", "light ends", "heavy batch 1", "heavy batch 2"]);
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
