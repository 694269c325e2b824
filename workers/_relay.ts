/**
 * What a worker's answers become on the server's side: events passed to
 * the call's hooks, and an explanation's per-method errors revived.
 *
 * @module
 */
import type { ExplainHooks } from "../explain/mod.ts";
import { type ErrorData, fromErrorData, type FromWorker } from "./protocol.ts";

/** Passes one worker event to the call's hooks, revived. */
export function relay(
  hooks: ExplainHooks | undefined,
  message: Extract<FromWorker, { type: "event" }>,
): void {
  if (!hooks) return;
  const data = message.data as Record<string, unknown>;
  switch (message.event) {
    case "analysis":
      return hooks.onAnalysis?.(data as never);
    case "progress":
      return hooks.onProgress?.(data.method as string, data.fraction as number);
    case "map":
      return hooks.onMap?.(data as never);
    case "rendering":
      return hooks.onRendering?.(data as never);
    case "methodError":
      return hooks.onMethodError?.(
        data.method as string,
        fromErrorData(data.error as ErrorData),
      );
  }
}

/** An explanation outcome's method errors, revived. */
export function reviveOutcome(value: unknown): unknown {
  const outcome = value as { methods?: { error?: ErrorData }[] };
  if (!Array.isArray(outcome?.methods)) return value;
  return {
    ...outcome,
    methods: outcome.methods.map((m) =>
      m.error ? { ...m, error: fromErrorData(m.error) } : m
    ),
  };
}
