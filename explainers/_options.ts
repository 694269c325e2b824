/**
 * Validation of the numeric options of long methods (`topChannels`,
 * `samples`, …), with client errors that name the method and the range.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";

/** One numeric option: its range and default. */
export interface NumberOption {
  /** Whole numbers only. */
  integer?: boolean;
  min: number;
  max: number;
  /** Exclude `min` itself (for "positive"). */
  minExclusive?: boolean;
  /** The value when absent; `null`: derived from the input at explain time. */
  default: number | null;
}

/** The parsed options: numbers, or `null` where the default is derived. */
export type ParsedOptions<S extends Record<string, NumberOption>> = {
  [K in keyof S]: S[K]["default"] extends number ? number : number | null;
};

/** A value as the user sent it: numbers as numbers (1e400 is Infinity, not null). */
function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

/**
 * A `parseParams` for a method whose options are all numbers. Unknown keys,
 * wrong types and out-of-range values are `BAD_USER_INPUT` client errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const parse = numberOptions("scorecam", {
 *   topChannels: { integer: true, min: 0, max: 100_000, default: 64 },
 * });
 * assert.deepEqual(parse(undefined), { topChannels: 64 });
 * assert.throws(() => parse({ topChannels: -1 }), { code: "BAD_USER_INPUT" });
 * ```
 */
export function numberOptions<S extends Record<string, NumberOption>>(
  method: string,
  spec: S,
): (raw: unknown) => ParsedOptions<S> {
  const keys = Object.keys(spec);
  return (raw) => {
    if (raw !== undefined && raw !== null && typeof raw !== "object") {
      throw clientError(
        "BAD_USER_INPUT",
        `Options of method "${method}" must be an object, got ${
          JSON.stringify(raw)
        }`,
      );
    }
    const given = (raw ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(given)) {
      if (!keys.includes(key)) {
        throw clientError(
          "BAD_USER_INPUT",
          `Method "${method}" has no option "${key}": valid options are ${
            keys.map((k) => `"${k}"`).join(", ")
          }`,
        );
      }
    }
    const out: Record<string, number | null> = {};
    for (const [key, option] of Object.entries(spec)) {
      const value = given[key];
      if (value === undefined || value === null) {
        out[key] = option.default;
        continue;
      }
      const ok = typeof value === "number" && Number.isFinite(value) &&
        (!option.integer || Number.isInteger(value)) &&
        (option.minExclusive ? value > option.min : value >= option.min) &&
        value <= option.max;
      if (!ok) {
        const kind = option.integer ? "an integer" : "a number";
        const range = option.minExclusive
          ? `greater than ${option.min} and at most ${option.max}`
          : `from ${option.min} to ${option.max}`;
        throw clientError(
          "BAD_USER_INPUT",
          `${method}: ${key} must be ${kind} ${range}, got ${shown(value)}`,
        );
      }
      out[key] = value as number;
    }
    return out as ParsedOptions<S>;
  };
}
