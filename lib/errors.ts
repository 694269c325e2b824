/**
 * Client-facing errors. Everything the caller can fix (or must retry) is a
 * `GraphQLError` carrying a machine-readable `extensions.code`.
 *
 * @module
 */
import { GraphQLError } from "graphql";

/** Machine-readable codes placed in `extensions.code` of client errors. */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "INVALID_IMAGE"
  | "IMAGE_TOO_LARGE"
  | "UNKNOWN_METHOD"
  | "UNKNOWN_LAYER"
  | "UNSUPPORTED_LAYER"
  | "UNSUPPORTED_MODEL"
  | "UNKNOWN_COLORMAP"
  | "MODEL_NOT_READY"
  | "OVERLOADED"
  | "MODEL_LOAD_FAILED"
  | "QUERY_TOO_COMPLEX"
  | "TIMEOUT"
  | "SHUTTING_DOWN";

/**
 * Builds a client error whose extensions are `{ code, ...extra }`.
 *
 * `code` always wins over a `code` key in `extra`.
 *
 * @example
 * ```ts
 * const error = clientError("IMAGE_TOO_LARGE", "Image is too large", {
 *   limit: 40_000_000,
 * });
 * error.extensions; // { code: "IMAGE_TOO_LARGE", limit: 40000000 }
 * ```
 */
export function clientError(
  code: ErrorCode,
  message: string,
  extra?: Record<string, unknown>,
): GraphQLError {
  const extensions: Record<string, unknown> = { code, ...extra };
  extensions.code = code;
  return new GraphQLError(message, { extensions });
}
