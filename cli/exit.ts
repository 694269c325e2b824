/**
 * The CLI's exit statuses, and the one place client error codes map to
 * them: 0 everything written, 1 some file failed (the others were
 * written), 2 bad arguments (or a layer, class or method the model does
 * not have), 3 the model or the server could not do the work.
 *
 * @module
 */
import type { ErrorCode } from "../lib/mod.ts";

/** Exit statuses of `deno task explain`. */
export const EXIT = {
  ok: 0,
  someFilesFailed: 1,
  usage: 2,
  unavailable: 3,
} as const;

/**
 * The exit status each client error code ends the CLI with, when it ends
 * the whole run (a code that concerns one file only fails that file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(EXIT_STATUS.UNKNOWN_LAYER, EXIT.usage); // 2
 * ```
 */
export const EXIT_STATUS: Readonly<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: EXIT.usage,
  UNKNOWN_METHOD: EXIT.usage,
  UNKNOWN_MODEL: EXIT.usage,
  UNKNOWN_LAYER: EXIT.usage,
  UNSUPPORTED_LAYER: EXIT.usage,
  UNKNOWN_COLORMAP: EXIT.usage,
  QUERY_TOO_COMPLEX: EXIT.usage,
  CSRF_HEADER_REQUIRED: EXIT.usage,
  NOT_ACCEPTABLE: EXIT.usage,
  JOB_NOT_FOUND: EXIT.usage,
  INVALID_IMAGE: EXIT.someFilesFailed,
  IMAGE_TOO_LARGE: EXIT.someFilesFailed,
  UNSUPPORTED_MODEL: EXIT.unavailable,
  OVERLOADED: EXIT.unavailable,
  TIMEOUT: EXIT.unavailable,
  MODEL_NOT_READY: EXIT.unavailable,
  MODEL_LOAD_FAILED: EXIT.unavailable,
  MODEL_CRASHED: EXIT.unavailable,
  UNAVAILABLE: EXIT.unavailable,
  SHUTTING_DOWN: EXIT.unavailable,
};
