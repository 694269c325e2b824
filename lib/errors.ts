/**
 * Errors a caller can fix or must retry: a {@linkcode ClientError} carries a
 * stable, machine-readable code and details (the limit, the valid values).
 * Plain JavaScript: each door maps codes in one place — the GraphQL API to
 * `extensions.code` (`schema/errors.ts`), the CLI to exit statuses
 * (`cli/exit.ts`). Anything that is not a `ClientError` is a bug.
 *
 * @module
 */

/**
 * Every client error code, in documentation order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(ERROR_CODES.includes("BAD_USER_INPUT"));
 * ```
 */
export const ERROR_CODES = [
  "BAD_USER_INPUT",
  "UNKNOWN_METHOD",
  "UNKNOWN_MODEL",
  "UNKNOWN_LAYER",
  "UNSUPPORTED_LAYER",
  "UNSUPPORTED_MODEL",
  "UNKNOWN_COLORMAP",
  "INVALID_IMAGE",
  "IMAGE_TOO_LARGE",
  "QUERY_TOO_COMPLEX",
  "CSRF_HEADER_REQUIRED",
  "NOT_ACCEPTABLE",
  "JOB_NOT_FOUND",
  "OVERLOADED",
  "TIMEOUT",
  "MODEL_NOT_READY",
  "MODEL_LOAD_FAILED",
  "MODEL_CRASHED",
  "UNAVAILABLE",
  "SHUTTING_DOWN",
] as const;

/** Machine-readable codes of client errors. */
export type ErrorCode = typeof ERROR_CODES[number];

/**
 * Codes that mean "try again later": the request was fine, the server
 * could not take it now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(RETRYABLE_CODES.has("OVERLOADED"));
 * ```
 */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "OVERLOADED",
  "MODEL_NOT_READY",
  "MODEL_CRASHED",
  "UNAVAILABLE",
  "SHUTTING_DOWN",
]);

/** An error the caller caused or must retry, with a stable code. */
export class ClientError extends Error {
  override name = "ClientError";
  /** What was wrong, for programs. */
  readonly code: ErrorCode;
  /** Extra facts for programs, e.g. `{ limit: 16 }` or `{ valid: [...] }`. */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const error = new ClientError("IMAGE_TOO_LARGE", "Image is too large", { limit: 10 });
   * assert.equal(error.code, "IMAGE_TOO_LARGE");
   * ```
   */
  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.code = code;
    const { code: _ignored, ...rest } = details;
    this.details = rest;
  }
}

/**
 * Builds a {@linkcode ClientError}; a `code` key in `details` is ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => {
 *     throw clientError("BAD_USER_INPUT", "alpha must be between 0 and 1, got 2");
 *   },
 *   { name: "ClientError", code: "BAD_USER_INPUT" },
 * );
 * ```
 */
export function clientError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): ClientError {
  return new ClientError(code, message, details);
}

/**
 * Whether `error` is a {@linkcode ClientError}, also across realms and
 * process boundaries (a plain object with a known `code` and a `message`
 * counts once revived by {@linkcode reviveClientError}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isClientError(clientError("TIMEOUT", "Too slow")), true);
 * assert.equal(isClientError(new Error("bug")), false);
 * ```
 */
export function isClientError(error: unknown): error is ClientError {
  return error instanceof ClientError;
}

/** A {@linkcode ClientError} as plain data, for messages between processes. */
export interface ClientErrorData {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The plain data of a client error, for sending to another process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   clientErrorData(clientError("TIMEOUT", "Too slow")),
 *   { code: "TIMEOUT", message: "Too slow", details: {} },
 * );
 * ```
 */
export function clientErrorData(error: ClientError): ClientErrorData {
  return {
    code: error.code,
    message: error.message,
    details: { ...error.details },
  };
}

/**
 * The client error a {@linkcode ClientErrorData} describes; null when the
 * code is not one of {@linkcode ERROR_CODES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const data = { code: "TIMEOUT", message: "Too slow", details: {} };
 * assert.equal(reviveClientError(data)?.code, "TIMEOUT");
 * assert.equal(reviveClientError({ ...data, code: "NO_SUCH_CODE" }), null);
 * ```
 */
export function reviveClientError(data: unknown): ClientError | null {
  const d = data as Partial<ClientErrorData> | null;
  if (
    typeof d?.code !== "string" || typeof d.message !== "string" ||
    !(ERROR_CODES as readonly string[]).includes(d.code)
  ) {
    return null;
  }
  return new ClientError(d.code as ErrorCode, d.message, d.details ?? {});
}
