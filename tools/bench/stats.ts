/**
 * Summaries of timing samples, and the sampling loop that alternates the
 * things compared so that drift in the machine's load hits each alike.
 * Pure apart from the clock.
 *
 * @module
 */

/** Median, extremes and count of a set of samples. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

/**
 * Median, min, max and count; null for no samples.
 *
 * @example
 * ```ts
 * summarize([3, 1, 2, 10]); // { median: 2.5, min: 1, max: 10, n: 4 }
 * ```
 */
export function summarize(samples: readonly number[]): Stats | null {
  if (samples.length === 0) return null;
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * The sample at fraction `p` of the sorted samples (nearest rank, no
 * interpolation); NaN for no samples.
 *
 * @example
 * ```ts
 * percentile([5, 1, 4, 2, 3], 0.95); // 5
 * ```
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/**
 * Milliseconds `work` takes.
 *
 * @example
 * ```ts
 * const ms = await timed(() => fetch(url));
 * ```
 */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Options of {@linkcode alternate}. */
export interface AlternateOptions {
  /** Timed runs of each contender. */
  runs: number;
  /** Untimed runs of each contender first. @default 1 */
  warmUp?: number | undefined;
  /**
   * Idle time before each timed run, ms: thread pools that spin after a
   * run (ONNX Runtime's default, OpenMP) would otherwise take cores from
   * the next contender. @default 0
   */
  gapMs?: number | undefined;
}

/**
 * Times several contenders in turns (a, b, c, a, b, c, …), each given the
 * index of its run (negative while warming up) so that it can pick an input
 * no cache has seen. Returns each contender's samples, ms.
 *
 * @example
 * ```ts
 * const ms = await alternate({ lumen: (i) => run(i), bare: (i) => bare(i) }, { runs: 10 });
 * ms.lumen.length; // 10
 * ```
 */
export async function alternate<K extends string>(
  contenders: Record<K, (run: number) => Promise<unknown>>,
  options: AlternateOptions,
): Promise<Record<K, number[]>> {
  const names = Object.keys(contenders) as K[];
  const out = Object.fromEntries(
    names.map((k) => [k, [] as number[]]),
  ) as Record<K, number[]>;
  for (let i = 0; i < (options.warmUp ?? 1); i++) {
    for (const k of names) await contenders[k](-1 - i);
  }
  const gap = options.gapMs ?? 0;
  for (let i = 0; i < options.runs; i++) {
    for (const k of names) {
      if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      out[k].push(await timed(() => contenders[k](i)));
    }
  }
  return out;
}
