/**
 * What a worker's answers become on the server's side: events passed to
 * the call's hooks, and an explanation's outcome put back together (its
 * maps and PNGs came as events and are not sent twice; its per-method
 * errors revived).
 *
 * @module
 */
import type { ExplainHooks, MethodRendering } from "../explain/mod.ts";
import { type ErrorData, fromErrorData, type FromWorker } from "./protocol.ts";

/** Stands for a method's map or PNGs in a result: sent before as an event. */
export const RELAYED = "relayed";

/** The maps and PNGs a call's events carried, by method. */
export type RelayedParts = Map<string, { map?: unknown; rendering?: unknown }>;

/**
 * A rendering event whose PNGs are those of an earlier method of the same
 * call (maps that render alike render once): the bytes are not sent again.
 */
export interface SameRendering {
  method: string;
  renderMs: number;
  /** The method whose PNGs these are. */
  sameAs: string;
}

/**
 * A call's renderings as they are to be sent, each PNG once: a rendering
 * whose PNGs went with an earlier method's (the same bytes) becomes a
 * {@linkcode SameRendering} naming that method.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const once = pngsOnce();
 * const overlay = new Uint8Array([137, 80, 78, 71]);
 * assert.equal(once({ method: "gradcam", overlay, renderMs: 2 }).method, "gradcam");
 * assert.deepEqual(once({ method: "hirescam", overlay, renderMs: 0 }), {
 *   method: "hirescam",
 *   renderMs: 0,
 *   sameAs: "gradcam",
 * });
 * ```
 */
export function pngsOnce(): (
  rendering: MethodRendering,
) => MethodRendering | SameRendering {
  const methodOf = new Map<Uint8Array, string>();
  return (rendering) => {
    const png = rendering.overlay ?? rendering.heatmap;
    if (!png) return rendering;
    const sameAs = methodOf.get(png);
    if (sameAs === undefined) {
      methodOf.set(png, rendering.method);
      return rendering;
    }
    return { method: rendering.method, renderMs: rendering.renderMs, sameAs };
  };
}

/**
 * Passes one worker event to the call's hooks, revived, and keeps the maps
 * and PNGs in `parts` for the outcome. A rendering that names an earlier
 * method (`sameAs`) gets that method's PNGs, the same bytes; one whose
 * earlier method never came is dropped (the call's result then fails,
 * see {@linkcode reviveOutcome}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const parts: RelayedParts = new Map();
 * const seen: string[] = [];
 * relay({ onMap: (m) => seen.push(m.method) }, {
 *   type: "event",
 *   id: 1,
 *   event: "map",
 *   data: { method: "gradcam" },
 * }, parts);
 * assert.deepEqual(seen, ["gradcam"]);
 * assert.deepEqual(parts.get("gradcam"), { map: { method: "gradcam" } });
 * ```
 */
export function relay(
  hooks: ExplainHooks | undefined,
  message: Extract<FromWorker, { type: "event" }>,
  parts?: RelayedParts,
): void {
  let data = message.data as Record<string, unknown>;
  if (message.event === "rendering" && typeof data.sameAs === "string") {
    const { sameAs, ...own } = data as unknown as SameRendering;
    const earlier = parts?.get(sameAs)?.rendering;
    if (earlier === undefined) return;
    data = { ...earlier, ...own };
  }
  if (parts && (message.event === "map" || message.event === "rendering")) {
    const method = data.method as string;
    parts.set(method, { ...parts.get(method), [message.event]: data });
  }
  if (!hooks) return;
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

interface MethodData {
  method: string;
  error?: ErrorData;
  map?: unknown;
  rendering?: unknown;
}

/**
 * An explanation outcome with its method errors revived and the maps and
 * PNGs marked {@linkcode RELAYED} taken from `parts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const parts: RelayedParts = new Map([["gradcam", { map: { m: 1 } }]]);
 * const outcome = reviveOutcome({ methods: [{ method: "gradcam", map: RELAYED }] }, parts);
 * assert.deepEqual(outcome, { methods: [{ method: "gradcam", map: { m: 1 } }] });
 * ```
 */
export function reviveOutcome(
  value: unknown,
  parts: RelayedParts = new Map(),
): unknown {
  const outcome = value as { methods?: MethodData[] };
  if (!Array.isArray(outcome?.methods)) return value;
  const part = (m: MethodData, kind: "map" | "rendering") => {
    if (m[kind] !== RELAYED) {
      return m[kind] === undefined ? {} : { [kind]: m[kind] };
    }
    const relayed = parts.get(m.method)?.[kind];
    if (relayed === undefined) {
      throw new Error(`The worker's ${kind} of ${m.method} never came`);
    }
    return { [kind]: relayed };
  };
  return {
    ...outcome,
    methods: outcome.methods.map((m) => {
      const { map: _map, rendering: _rendering, ...rest } = m;
      return {
        ...rest,
        ...part(m, "map"),
        ...part(m, "rendering"),
        ...(m.error ? { error: fromErrorData(m.error) } : {}),
      };
    }),
  };
}

/**
 * An outcome to send: the maps and PNGs already sent as events (`sent`,
 * by method) replaced by {@linkcode RELAYED}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sent = new Map([["gradcam", new Set(["map"])]]);
 * assert.deepEqual(
 *   withoutRelayed({ methods: [{ method: "gradcam", map: { big: 1 } }] }, sent),
 *   { methods: [{ method: "gradcam", map: RELAYED }] },
 * );
 * ```
 */
export function withoutRelayed(
  value: unknown,
  sent: ReadonlyMap<string, ReadonlySet<string>>,
): unknown {
  const outcome = value as { methods?: MethodData[] };
  if (!Array.isArray(outcome?.methods)) return value;
  return {
    ...outcome,
    methods: outcome.methods.map((m) => {
      const kinds = sent.get(m.method);
      if (!kinds) return m;
      return {
        ...m,
        ...(m.map !== undefined && kinds.has("map") ? { map: RELAYED } : {}),
        ...(m.rendering !== undefined && kinds.has("rendering")
          ? { rendering: RELAYED }
          : {}),
      };
    }),
  };
}
