/**
 * A one-line progress bar on stderr: steps done out of the total (one step
 * per image and method), the fraction of the running step included, and
 * what is being computed.
 *
 * @module
 */

/**
 * The bar's text, without control characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatProgress(1.5, 4, { label: "cat.png · gradcam", width: 10 }),
 *   "[####------]  37% 1/4 cat.png · gradcam",
 * );
 * ```
 */
export function formatProgress(
  done: number,
  total: number,
  options: {
    /** What is being computed, after the steps. @default "" */
    label?: string;
    /** The bar's length in characters. @default 24 */
    width?: number;
  } = {},
): string {
  const { label = "", width = 24 } = options;
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(fraction * width);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${percent} ` +
    `${Math.floor(done)}/${total}${label ? ` ${label}` : ""}`;
}

/** A progress bar that redraws itself in place. */
export interface Progress {
  /** Sets what is running and how far along it is (`stepFraction` 0 to 1). */
  update(done: number, label: string, stepFraction?: number): void;
  /** Erases the bar (before printing other lines; the next update redraws). */
  clear(): void;
}

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Where the bar goes. */
  write: (text: string) => void;
  /** Steps in all. */
  total: number;
  /** Least time between redraws, ms. @default 100 */
  intervalMs?: number;
  /** @default performance.now */
  now?: () => number;
}

/**
 * A bar drawn with carriage returns (for a terminal). Redraws are throttled,
 * except that reaching a new whole step always redraws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const written: string[] = []; // a terminal: Deno.stderr.writeSync(encoder.encode(t))
 * const bar = createProgress({ write: (t) => written.push(t), total: 4 });
 * bar.update(1, "cat.png · gradcam", 0.5);
 * bar.clear();
 * assert.deepEqual(written, [
 *   "\r[#########---------------]  37% 1/4 cat.png · gradcam\x1b[K",
 *   "\r\x1b[K",
 * ]);
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? 100;
  let last = -Infinity;
  let lastDone = -1;
  let shown = false;
  return {
    update(done, label, stepFraction = 0) {
      const t = now();
      if (done === lastDone && t - last < interval) return;
      last = t;
      lastDone = done;
      const text = formatProgress(done + stepFraction, options.total, {
        label,
      });
      options.write(`\r${text}\x1b[K`);
      shown = true;
    },
    clear() {
      if (!shown) return;
      options.write("\r\x1b[K");
      shown = false;
      lastDone = -1;
    },
  };
}
