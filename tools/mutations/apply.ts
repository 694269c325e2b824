/**
 * What a mutation is, and applying one to a file's text. Pure: no I/O, so
 * the catalog can be checked against the source tree quickly (every pattern
 * still matches exactly once) without running any mutation.
 *
 * @module
 */

/** One deliberate bug: a textual replacement and the tests that must notice it. */
export interface Mutation {
  /** Short kebab-case name, used to pick mutations on the command line. */
  name: string;
  /** The behaviour the mutation breaks, as the docs promise it. */
  claim: string;
  /** File to change, relative to the repository root. */
  file: string;
  /** Exact text to replace; it must occur exactly once in `file`. */
  from: string;
  /** Replacement text. */
  to: string;
  /** Test files (relative to the root) at least one of which must fail. */
  tests: string[];
  /** Seconds the test run may take; @default 600 */
  timeoutS?: number;
}

/** Thrown when a mutation's pattern does not occur exactly once. */
export class PatternError extends Error {
  override name = "PatternError";
}

/**
 * Replaces `mutation.from` by `mutation.to` in `text`. Throws a
 * {@linkcode PatternError} unless `from` occurs exactly once, so that a
 * mutation whose code moved or changed is reported, not silently skipped.
 *
 * @example
 * ```ts
 * applyMutation("a + b", { from: "+", to: "-" } as Mutation); // "a - b"
 * ```
 */
export function applyMutation(
  text: string,
  mutation: Pick<Mutation, "name" | "file" | "from" | "to">,
): string {
  const first = text.indexOf(mutation.from);
  if (first < 0) {
    throw new PatternError(
      `Mutation "${mutation.name}": its pattern is not in ${mutation.file} (the code moved or changed: update tools/mutations/catalog.ts)`,
    );
  }
  if (text.indexOf(mutation.from, first + 1) >= 0) {
    throw new PatternError(
      `Mutation "${mutation.name}": its pattern occurs more than once in ${mutation.file}: make it longer`,
    );
  }
  return text.slice(0, first) + mutation.to +
    text.slice(first + mutation.from.length);
}

/** How a test run of a mutated copy ended. */
export type Verdict = "caught" | "SURVIVED" | "ERROR";

/** A test run's summary, read from `deno test` output. */
export interface TestSummary {
  passed: number;
  failed: number;
  /** Names of the failed tests, as `deno test` lists them. */
  failures: string[];
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Reads the final `ok | N passed | M failed` line (and the failed tests'
 * names) from `deno test` output; null when there is none (the run did not
 * get as far as running tests, e.g. a module failed to load).
 *
 * @example
 * ```ts
 * parseTestSummary("FAILED | 3 passed | 1 failed (2s)"); // { passed: 3, failed: 1, failures: [] }
 * ```
 */
export function parseTestSummary(output: string): TestSummary | null {
  const text = output.replace(ANSI, "");
  const summaries = [
    ...text.matchAll(
      /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/gm,
    ),
  ];
  const last = summaries.at(-1);
  if (!last) return null;
  const failures: string[] = [];
  const heading = [...text.matchAll(/^\s*FAILURES\s*$/gm)].at(-1);
  if (heading) {
    const section = heading.index;
    for (const line of text.slice(section).split("\n")) {
      const trimmed = line.trim();
      const match = /^(.+?) => \.?\/?\S+:\d+:\d+$/.exec(trimmed);
      if (match) failures.push(match[1]);
      else if (trimmed.endsWith("(uncaught error)")) failures.push(trimmed);
    }
  }
  return { passed: Number(last[1]), failed: Number(last[2]), failures };
}

/**
 * The verdict of a mutated run: caught when a test failed, SURVIVED when
 * tests ran and all passed, ERROR when no test ran to the end (nothing ran,
 * or only "uncaught error" entries failed with nothing passing: a module
 * that did not load).
 *
 * @example
 * ```ts
 * verdictOf({ passed: 3, failed: 1, failures: [] }); // "caught"
 * ```
 */
export function verdictOf(summary: TestSummary | null): Verdict {
  if (!summary || summary.passed + summary.failed === 0) return "ERROR";
  const loadFailures = summary.failures.filter((f) =>
    f.endsWith("(uncaught error)")
  );
  if (
    summary.passed === 0 && loadFailures.length > 0 &&
    loadFailures.length === summary.failures.length
  ) {
    return "ERROR";
  }
  return summary.failed > 0 ? "caught" : "SURVIVED";
}
