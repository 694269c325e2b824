/**
 * Validators for command-line flags and environment values, shared by the
 * server, the job worker and the CLI: one {@linkcode UsageError} for
 * anything that cannot be used (the process then exits with status 2).
 *
 * @module
 */

/** A flag or environment value that cannot be used. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * A whole number of at least `min` (and at most `max`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(integer("--port", "8000", 0, 65535), 8000);
 * assert.throws(() => integer("--threads", "0", 1), UsageError);
 * ```
 */
export function integer(
  flag: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(
      `Invalid ${flag} "${text}": use an integer of at least ${min}`,
    );
  }
  if (value > max) {
    throw new UsageError(
      `Invalid ${flag} "${text}": use an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * A number from `min` to `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(fraction("--alpha", "0.4", 0, 1), 0.4);
 * assert.throws(() => fraction("--alpha", "1.5", 0, 1), UsageError);
 * ```
 */
export function fraction(
  flag: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = Number(text);
  if (text.trim() === "" || !(value >= min && value <= max)) {
    throw new UsageError(
      `Invalid ${flag} "${text}": use a number from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * One of `valid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(oneOf("--log-level", "debug", ["debug", "info"]), "debug");
 * assert.throws(() => oneOf("--log-level", "loud", ["debug", "info"]), UsageError);
 * ```
 */
export function oneOf<T extends string>(
  flag: string,
  value: string,
  valid: readonly T[],
): T {
  if (!(valid as readonly string[]).includes(value)) {
    throw new UsageError(`Invalid ${flag} "${value}": use ${valid.join(", ")}`);
  }
  return value as T;
}

/**
 * A byte count: an integer with an optional binary suffix (`K`, `M`, `G`,
 * also `KiB`, `MiB`, `GiB`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(bytes("--max-model-memory", "1536M"), 1536 * 2 ** 20);
 * assert.equal(bytes("--max-model-memory", "2GiB"), 2 * 2 ** 30);
 * ```
 */
export function bytes(flag: string, text: string): number {
  const match = /^(\d+)\s*(k|m|g|kib|mib|gib)?$/i.exec(text.trim());
  const scale: Record<string, number> = {
    "": 1,
    k: 1024,
    kib: 1024,
    m: 1024 ** 2,
    mib: 1024 ** 2,
    g: 1024 ** 3,
    gib: 1024 ** 3,
  };
  const value = match
    ? Number(match[1]) * scale[(match[2] ?? "").toLowerCase()]
    : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(
      `Invalid ${flag} "${text}": use a byte count such as 1536M or 2G`,
    );
  }
  return value;
}

/**
 * The value of a flag, or else of an environment variable, or else the
 * default; with the name to quote in errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   fromFlagOrEnv("--port", undefined, "PORT", { PORT: "9000" }),
 *   { name: "PORT", text: "9000" },
 * );
 * assert.equal(fromFlagOrEnv("--port", undefined, "PORT", {}), null);
 * ```
 */
export function fromFlagOrEnv(
  flag: string,
  value: string | undefined,
  variable: string,
  env: Record<string, string | undefined>,
): { name: string; text: string } | null {
  if (value !== undefined) return { name: flag, text: value };
  const text = env[variable];
  return text === undefined ? null : { name: variable, text };
}

/** Flags as `parseArgs` returns them. */
export type Values = Record<string, string | string[] | boolean | undefined>;

/**
 * A flag's value when it was given as text, else undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(stringFlag({ port: "8000", help: true }, "port"), "8000");
 * assert.equal(stringFlag({ port: "8000", help: true }, "help"), undefined);
 * ```
 */
export function stringFlag(values: Values, flag: string): string | undefined {
  const value = values[flag];
  return typeof value === "string" ? value : undefined;
}
