/**
 * The job system's errors: the client errors it throws, and how a runner's
 * error becomes a job's `error` and `errorCode`.
 *
 * @module
 */
import { clientError, isClientError } from "../lib/mod.ts";

/**
 * The `JOB_NOT_FOUND` error for `id`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => {
 *   throw jobNotFound("x");
 * }, { code: "JOB_NOT_FOUND", message: /^Job "x" was not found/ });
 * ```
 */
export function jobNotFound(id: string): Error {
  return clientError(
    "JOB_NOT_FOUND",
    `Job "${id}" was not found: it never existed or its results expired`,
  );
}

/**
 * The `UNAVAILABLE` error: the job store cannot be reached; `cause` is kept
 * for the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cause = new Error("connect ECONNREFUSED");
 * const error = unavailable(cause);
 * assert.equal(error.cause, cause); // kept for the log
 * assert.throws(() => {
 *   throw error;
 * }, { code: "UNAVAILABLE" });
 * ```
 */
export function unavailable(cause?: unknown): Error {
  const error = clientError(
    "UNAVAILABLE",
    "The job store is unavailable; retry in a moment",
  );
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * The `OVERLOADED` error for a full queue; `details.retryAfterS` says when
 * to come back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => {
 *   throw overloaded(100, 10);
 * }, { code: "OVERLOADED", details: { limit: 100, retryAfterS: 10 } });
 * ```
 */
export function overloaded(limit: number, retryAfterS: number): Error {
  return clientError(
    "OVERLOADED",
    `The job queue is full: ${limit} jobs are already waiting; retry later`,
    { limit, retryAfterS },
  );
}

/**
 * The `SHUTTING_DOWN` error for calls after `close`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => {
 *   throw closedError();
 * }, { code: "SHUTTING_DOWN" });
 * ```
 */
export function closedError(): Error {
  return clientError("SHUTTING_DOWN", "The job queue is shutting down");
}

/** A job's failure as stored: a code and a message fit for the client. */
export interface Failure {
  readonly code: string;
  readonly message: string;
}

/** The message of an `INTERNAL` job failure (details go to the log). */
export const INTERNAL_MESSAGE =
  "The job failed because of an internal error; it has been logged";

/**
 * A runner's error as the job shows it: a `ClientError` keeps its code and
 * message, anything else is `INTERNAL` with a generic message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError } from "../lib/mod.ts";
 * assert.deepEqual(
 *   failureOf(clientError("BAD_USER_INPUT", "Bad size")),
 *   { code: "BAD_USER_INPUT", message: "Bad size" },
 * );
 * assert.equal(failureOf(new TypeError("x is undefined")).code, "INTERNAL");
 * ```
 */
export function failureOf(error: unknown): Failure {
  return isClientError(error)
    ? { code: error.code, message: error.message }
    : { code: "INTERNAL", message: INTERNAL_MESSAGE };
}
