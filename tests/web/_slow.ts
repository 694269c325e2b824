/**
 * Slow explainers the web tests hold in place: one reports half its work
 * done, then waits until the test lets it finish; one fails after its
 * first step. Both are marked `slow`, like scorecam.
 *
 * @module
 */
import type { Explainer } from "../../explainers/types.ts";

/** A slow explainer that stops half-way until the test releases it. */
export interface HeldExplainer {
  explainer: Explainer;
  /** Resolves once the explainer has reported half its work. */
  halfway: Promise<void>;
  /** Lets it finish; its map is a 2×2 ramp. */
  release(): void;
}

/**
 * A slow explainer named `name` that reports 0.25 and 0.5, then waits for
 * `release()` (or an abort) before reporting 0.75 and finishing.
 */
export function heldExplainer(name = "held"): HeldExplainer {
  const halfway = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  return {
    halfway: halfway.promise,
    release: () => gate.resolve(),
    explainer: {
      name,
      description: "Reports half its work, then waits for the test",
      needsGradients: false,
      slow: true,
      parseParams: () => ({}),
      async explain({ onProgress, signal }) {
        onProgress?.(0.25);
        await new Promise((resolve) => setTimeout(resolve, 20));
        onProgress?.(0.5);
        halfway.resolve();
        await new Promise<void>((resolve, reject) => {
          gate.promise.then(resolve);
          // Cancelled during the step before: the event has been and gone.
          if (signal?.aborted) return reject(signal.reason);
          signal?.addEventListener("abort", () => reject(signal.reason), {
            once: true,
          });
        });
        onProgress?.(0.75);
        return { width: 2, height: 2, values: new Float32Array([0, 1, 2, 3]) };
      },
    },
  };
}

/** A slow explainer that reports a step, then fails (an internal error). */
export const failingSlowExplainer: Explainer = {
  name: "failslow",
  description: "Fails after its first step",
  needsGradients: false,
  slow: true,
  parseParams: () => ({}),
  async explain({ onProgress }) {
    onProgress?.(0.5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new Error("secret internal detail");
  },
};
