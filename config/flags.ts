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
 * assert.equal(integer("--port", "8000", { max: 65535 }), 8000);
 * assert.throws(() => integer("--threads", "0", { min: 1 }), UsageError);
 * ```
 */
export function integer(
  flag: string,
  text: string,
  range: {
    /** The least value allowed. @default 0 */
    min?: number;
    /** The greatest value allowed. @default Number.MAX_SAFE_INTEGER */
    max?: number;
  } = {},
): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
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
 * assert.equal(fraction("--alpha", "0.4"), 0.4);
 * assert.throws(() => fraction("--alpha", "1.5"), UsageError);
 * assert.equal(fraction("--scale", "1.5", { max: 2 }), 1.5);
 * ```
 */
export function fraction(
  flag: string,
  text: string,
  range: {
    /** The least value allowed. @default 0 */
    min?: number;
    /** The greatest value allowed. @default 1 */
    max?: number;
  } = {},
): number {
  const { min = 0, max = 1 } = range;
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
 * const levels = { valid: ["debug", "info"] };
 * assert.equal(oneOf("--log-level", "debug", levels), "debug");
 * assert.throws(() => oneOf("--log-level", "loud", levels), UsageError);
 * ```
 */
export function oneOf<T extends string>(
  flag: string,
  value: string,
  options: {
    /** The values allowed, in the order the error message lists them. */
    valid: readonly T[];
  },
): T {
  const { valid } = options;
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
 * The value of a flag, or else of an environment variable, or else null
 * (the caller's default); with the name to quote in errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const flag = { flag: "--port", value: undefined };
 * assert.deepEqual(
 *   fromFlagOrEnv(flag, { variable: "PORT", env: { PORT: "9000" } }),
 *   { name: "PORT", text: "9000" },
 * );
 * assert.equal(fromFlagOrEnv(flag, { variable: "PORT", env: {} }), null);
 * ```
 */
export function fromFlagOrEnv(
  given: {
    /** The flag's name, with its dashes. */
    flag: string;
    /** Its value; undefined when the flag was not given. */
    value: string | undefined;
  },
  fallback: {
    /** The environment variable read when the flag is absent. */
    variable: string;
    env: Record<string, string | undefined>;
  },
): { name: string; text: string } | null {
  if (given.value !== undefined) return { name: given.flag, text: given.value };
  const text = fallback.env[fallback.variable];
  return text === undefined ? null : { name: fallback.variable, text };
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
