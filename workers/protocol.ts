/**
 * The messages between the server and a model worker process (framed on
 * the worker's stdin and stdout by `frames.ts`), and errors as data.
 *
 * @module
 */
import {
  type ClientErrorData,
  clientErrorData,
  isClientError,
  reviveClientError,
} from "../lib/mod.ts";
import type { EntryOptions, ModelSpec } from "../models/mod.ts";
import type { Call } from "./calls.ts";
import type { Lane } from "./scheduler.ts";
import type { ModelDescription, WorkStats } from "./service.ts";

/** How a worker process sets itself up. */
export interface WorkerConfig {
  /** The models, the default first. */
  models: ModelSpec[];
  /** How each model loads (engine, threads, batch sizes). */
  engine: Omit<EntryOptions, "log">;
  /** Weights budget of the loaded models, bytes; null: none. */
  maxModelBytes: number | null;
  /** Largest decoded image, width × height. */
  maxPixels: number;
  /** Explainer plugin modules, as given on the command line. */
  plugins: string[];
  /** The worker's number, for its log lines. */
  index: number;
}

/** From the server to a worker. */
export type ToWorker =
  | { type: "call"; id: number; call: Call; lane: Lane }
  | { type: "cancel"; id: number }
  | { type: "exit" };

/** An error as data: a client error keeps its code. */
export interface ErrorData {
  client: ClientErrorData | null;
  name: string;
  message: string;
}

/** What the worker reports about itself with every answer. */
export interface WorkerHealth {
  /** Resident set size of the worker process, bytes. */
  rss: number;
  /** CPU time the worker process has used, user and system, seconds. */
  cpuSeconds: number;
  work: WorkStats;
}

/** From a worker to the server. */
export type FromWorker =
  | { type: "ready"; model: ModelDescription; health: WorkerHealth }
  | { type: "failed"; error: ErrorData }
  | { type: "event"; id: number; event: string; data: unknown }
  | { type: "result"; id: number; value: unknown; health: WorkerHealth }
  | { type: "error"; id: number; error: ErrorData; health: WorkerHealth }
  | { type: "fatal"; error: ErrorData };

/**
 * An error as data for the other process; a client error keeps its code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError } from "../lib/mod.ts";
 * assert.equal(toErrorData(clientError("TIMEOUT", "Too slow")).client?.code, "TIMEOUT");
 * assert.deepEqual(toErrorData(new RangeError("x")), { client: null, name: "RangeError", message: "x" });
 * ```
 */
export function toErrorData(error: unknown): ErrorData {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    client: isClientError(e) ? clientErrorData(e) : null,
    name: e.name,
    message: e.message,
  };
}

/**
 * The error an {@linkcode ErrorData} describes: the client error itself, or
 * an `Error` with the same name and message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientError, isClientError } from "../lib/mod.ts";
 * assert.equal(fromErrorData(toErrorData(new RangeError("x"))).name, "RangeError");
 * const revived = fromErrorData(toErrorData(clientError("TIMEOUT", "Too slow")));
 * assert.ok(isClientError(revived) && revived.code === "TIMEOUT");
 * ```
 */
export function fromErrorData(data: ErrorData): Error {
  const client = data.client && reviveClientError(data.client);
  if (client) return client;
  const error = data.name === "AbortError"
    ? new DOMException(data.message, "AbortError")
    : new Error(data.message);
  if (!(error instanceof DOMException)) error.name = data.name;
  return error as Error;
}
