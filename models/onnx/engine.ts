/**
 * The ONNX Runtime engine: a classifier graph (a TF.js export or a user's
 * `.onnx` file) run by native ONNX Runtime, split at any layer. Per split
 * layer, up to three sessions, made on first use and kept for the few most
 * recent layers: the lower half (input → boundary and skips), the upper
 * half (→ logits) and the upper half with the backward graph (→ logits,
 * class, gradient). Whole forwards run the default layer's two halves.
 *
 * @module
 */
import type { Engine, GraphLayer, LowerState, UpperResult } from "../engine.ts";
import { clientError } from "../../lib/mod.ts";
import {
  argMax,
  featureMaps,
  join,
  repeat,
  runBatch,
  split,
} from "./_batch.ts";
import { UnsupportedOpError } from "./backward.ts";
import { itemBytes } from "./ir.ts";
import { encodeSessionModel, type SessionModel } from "./external_data.ts";
import type { OnnxSource } from "./source.ts";
import {
  createSession,
  type OrtModule,
  type SessionHandle,
} from "./session.ts";
import {
  CLASS_IN,
  CLASS_OUT,
  GRADIENT,
  LOGITS,
  lowerModel,
  planSplit,
  type SplitPlan,
  upperModel,
} from "./split.ts";

/** Options of {@linkcode onnxEngine}. */
export interface OnnxEngineOptions {
  /** Intra-op threads; @default every core */
  threads?: number | undefined;
  /** Split layers whose sessions are kept; @default 4 */
  cachedLayers?: number | undefined;
  /** Why other engines were skipped (reported in `info`); @default [] */
  skipped?: string[] | undefined;
}

type SessionKind = "lower" | "upper" | "gradients";

/** What the engine knows about one split layer. */
interface Split {
  readonly layer: string;
  readonly plan: SplitPlan;
  /** The graph's (channels-last) input tensor. */
  readonly input: string;
  readonly fixedBatch: number | null;
  /** One item's dims of what crosses the cut, and of each skip. */
  readonly boundaryDims: number[];
  readonly skipDims: number[][];
  readonly bytes: { largest: number; upper: number };
  readonly sessions: Map<SessionKind, Promise<SessionHandle>>;
  /** The sessions made so far (released at once when the split goes). */
  readonly ready: Map<SessionKind, SessionHandle>;
  /** Passes using the split; it is released when the last one ends. */
  users: number;
  /** Out of the cache (or the engine disposed): release when unused. */
  evicted: boolean;
  make(kind: SessionKind): SessionModel;
}

/** The state `lower` hands out: plain arrays. */
interface OnnxLowerState extends LowerState {
  readonly split: string;
  boundary: Float32Array | null;
  skips: Float32Array[];
  logits: Float32Array[] | null;
}

function gradientError(error: unknown): unknown {
  if (!(error instanceof UnsupportedOpError)) return error;
  return clientError(
    "UNSUPPORTED_MODEL",
    `Gradients are not available for this model: ${error.message}; ` +
      "methods without gradients (activation, eigencam, scorecam, occlusion) still work",
    { op: error.op, node: error.node },
  );
}

/**
 * Wraps an {@linkcode OnnxSource} as an {@linkcode Engine} on ONNX Runtime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOnnxClassifier } from "./load.ts";
 * import { loadOrt } from "./session.ts";
 * // A TF.js model's source: await exportLayersModel(model). Here a tiny
 * // torchvision ResNet-18 (random weights, 64×64 input, 10 classes).
 * const ort = await loadOrt();
 * const source = await readOnnxClassifier(ort, "tests/fixtures/onnx/resnet18.onnx", { threads: 1 });
 * const engine = onnxEngine(ort, source, { threads: 1 });
 * const input = new Float32Array(64 * 64 * 3).fill(0.5); // channels-last
 * const state = await engine.lower([input], engine.defaultLayer);
 * const { gradients } = await engine.upper(state, { gradients: true });
 * state.dispose();
 * engine.dispose();
 * assert.deepEqual([gradients?.[0]?.height, gradients?.[0]?.width, gradients?.[0]?.channels], [2, 2, 64]);
 * ```
 */
export function onnxEngine(
  ort: OrtModule,
  source: OnnxSource,
  options: OnnxEngineOptions = {},
): Engine {
  const threads = Math.max(
    1,
    options.threads ?? navigator.hardwareConcurrency ?? 1,
  );
  const cachedLayers = Math.max(1, options.cachedLayers ?? 4);
  const byName = new Map<string, GraphLayer>(
    source.layers.map((l) => [l.name, l]),
  );
  const splits = new Map<string, Split>();
  const sizes = new Map<string, Split["bytes"]>();
  let disposed = false;
  const inputDims = [source.input.height, source.input.width, 3];
  const inputSize = source.input.height * source.input.width * 3;

  const makeSplit = (layer: string): Split => {
    if (!byName.has(layer)) throw new Error(`Graph error: no layer "${layer}"`);
    const { graph, tensor } = source.graphFor(layer);
    const plan = planSplit(graph, tensor);
    const dims = (name: string) => (graph.shapes.get(name) ?? []).slice(1);
    const own = dims(plan.boundary);
    const boundaryDims = plan.transposed ? [own[1], own[2], own[0]] : own;
    const size = (name: string) => itemBytes(graph.shapes.get(name));
    const lowerBytes = plan.lower.flatMap((n) => n.outputs).map(size);
    const upperBytes = plan.upper.flatMap((n) => n.outputs).map(size);
    return {
      layer,
      plan,
      input: graph.input,
      fixedBatch: graph.batch,
      boundaryDims,
      skipDims: plan.skips.map(dims),
      bytes: {
        largest: Math.max(size(graph.input), ...lowerBytes, ...upperBytes),
        upper: upperBytes.reduce((s, b) => s + b, 0),
      },
      sessions: new Map(),
      ready: new Map(),
      users: 0,
      evicted: false,
      make(kind) {
        // The weights stay where the source keeps them: its arrays or its file.
        const file = source.weightsFile;
        if (kind === "lower") {
          return encodeSessionModel(lowerModel(graph, plan), { file });
        }
        return encodeSessionModel(
          upperModel(graph, plan, { gradients: kind === "gradients" }),
          { file },
        );
      },
    };
  };

  /** The split for `layer`, kept among the most recently used. */
  const splitFor = (layer: string): Split => {
    if (disposed) throw new Error("Engine error: the engine was disposed");
    let s = splits.get(layer);
    if (s) splits.delete(layer);
    else s = makeSplit(layer);
    splits.set(layer, s);
    while (splits.size > cachedLayers) {
      const [oldest, evicted] = splits.entries().next().value!;
      splits.delete(oldest);
      retire(evicted);
    }
    return s;
  };

  const retire = (s: Split) => {
    s.evicted = true;
    if (s.users > 0) return;
    for (const [kind, p] of s.sessions) {
      const h = s.ready.get(kind);
      if (h) h.release();
      else p.then((late) => late.release(), () => {});
    }
    s.sessions.clear();
    s.ready.clear();
  };

  /** Runs `work` on the split for `layer`, which stays alive meanwhile. */
  const withSplit = async <T>(
    layer: string,
    work: (s: Split) => Promise<T>,
  ): Promise<T> => {
    const s = splitFor(layer);
    s.users++;
    try {
      return await work(s);
    } finally {
      s.users--;
      if (s.evicted && s.users === 0) retire(s);
    }
  };

  const session = (s: Split, kind: SessionKind): Promise<SessionHandle> => {
    let p = s.sessions.get(kind);
    if (!p) {
      const made = (async () => {
        let model: SessionModel;
        try {
          model = s.make(kind);
        } catch (error) {
          throw gradientError(error);
        }
        source.weightsFile?.ensure();
        return await createSession(ort, model, { threads });
      })();
      made.then((h) => {
        if (s.sessions.get(kind) === made) s.ready.set(kind, h);
      }, () => {});
      s.sessions.set(kind, made);
      p = made;
    }
    return p;
  };

  const lowerHalf = async (s: Split, input: Float32Array, n: number) => {
    // The state must not alias the caller's arrays (they may change).
    if (s.plan.lower.length === 0) {
      return { boundary: n === 1 ? input.slice() : input, skips: [] };
    }
    const fetches = [s.plan.exchanged, ...s.plan.skips];
    const out = await (await session(s, "lower")).use((run) =>
      runBatch(
        { ort, run },
        [{ name: s.input, data: input, dims: inputDims }],
        {
          n,
          fixed: s.fixedBatch,
          fetches,
        },
      )
    );
    return {
      boundary: out.get(s.plan.exchanged) as Float32Array,
      skips: s.plan.skips.map((k) => out.get(k) as Float32Array),
    };
  };

  const upperHalf = async (
    s: Split,
    boundary: Float32Array,
    skips: Float32Array[],
    n: number,
    gradients: boolean,
    classIndex?: number,
  ) => {
    const feeds = [
      { name: s.plan.exchanged, data: boundary, dims: s.boundaryDims },
      ...s.plan.skips.map((name, i) => ({
        name,
        data: skips[i],
        dims: s.skipDims[i],
      })),
    ];
    const kind = gradients ? "gradients" : "upper";
    const out = await (await session(s, kind)).use((run) =>
      runBatch({ ort, run }, feeds, {
        n,
        fixed: s.fixedBatch,
        fetches: gradients ? [LOGITS, CLASS_OUT, GRADIENT] : [LOGITS],
        extra: gradients
          ? {
            [CLASS_IN]: new ort.Tensor(
              "int64",
              BigInt64Array.from([BigInt(classIndex ?? -1)]),
              [1],
            ),
          }
          : undefined,
      })
    );
    const logits = split(out.get(LOGITS) as Float32Array, n);
    return {
      logits,
      classIndex: gradients
        ? Array.from(out.get(CLASS_OUT) as BigInt64Array, Number)
        : logits.map((l) => classIndex ?? argMax(l)),
      gradients: gradients ? (out.get(GRADIENT) as Float32Array) : null,
    };
  };

  const inputName = source.layers[0].name;

  return {
    info: {
      name: "onnxruntime",
      adapter: null,
      threads,
      skipped: options.skipped ?? [],
    },
    input: {
      name: inputName,
      width: source.input.width,
      height: source.input.height,
    },
    classes: source.classes,
    layers: source.layers,
    defaultLayer: source.defaultLayer,
    weightBytes: source.weightBytes,
    itemBytes(layer, gradients) {
      // Sizes only: asking must not push a split's sessions out of the cache.
      const key = layer ?? source.defaultLayer;
      let bytes = sizes.get(key);
      if (!bytes) {
        bytes = (splits.get(key) ?? makeSplit(key)).bytes;
        sizes.set(key, bytes);
      }
      return 4 * bytes.largest +
        (gradients && layer !== null ? 2 * bytes.upper : 0);
    },
    lower(inputs, layer) {
      return withSplit(layer ?? source.defaultLayer, async (s) => {
        const n = inputs.length;
        const half = await lowerHalf(s, join(inputs, inputSize), n);
        const logits = layer === null
          ? (await upperHalf(s, half.boundary, half.skips, n, false)).logits
          : null;
        const kept = logits ?? [half.boundary, ...half.skips];
        const state: OnnxLowerState = {
          layer,
          batch: n,
          split: s.layer,
          bytes: kept.reduce((sum, a) => sum + a.byteLength, 0),
          boundary: logits ? null : half.boundary,
          skips: logits ? [] : half.skips,
          logits,
          dispose() {
            state.boundary = null;
            state.skips = [];
            state.logits = null;
          },
        };
        return state;
      });
    },
    upper(lowerState, upperOptions = {}): Promise<UpperResult> {
      const state = lowerState as OnnxLowerState;
      if (state.layer === null) {
        if (!state.logits) {
          return Promise.reject(
            new Error("Engine error: the state was disposed"),
          );
        }
        return Promise.resolve({
          logits: state.logits.map((l) => l.slice()),
          classIndex: state.logits.map((l) =>
            upperOptions.classIndex ?? argMax(l)
          ),
          activations: null,
          gradients: null,
        });
      }
      if (!state.boundary) {
        return Promise.reject(
          new Error("Engine error: the state was disposed"),
        );
      }
      const { boundary: own, skips: ownSkips } = state;
      return withSplit(state.split, async (s) => {
        const replace = upperOptions.replace;
        if (replace && state.batch !== 1) {
          throw new Error(
            `Engine error: replace needs a state of batch 1, got ${state.batch}`,
          );
        }
        const n = replace ? replace.length : state.batch;
        if (n === 0) {
          return { logits: [], classIndex: [], activations: [], gradients: [] };
        }
        const itemSize = s.boundaryDims.reduce((p, d) => p * d, 1);
        const boundary = replace ? join(replace, itemSize) : own;
        const skips = replace ? ownSkips.map((k) => repeat(k, n)) : ownSkips;
        const gradients = Boolean(upperOptions.gradients);
        const r = await upperHalf(
          s,
          boundary,
          skips,
          n,
          gradients,
          upperOptions.classIndex,
        );
        return {
          logits: r.logits,
          classIndex: r.classIndex,
          activations: upperOptions.activations
            ? featureMaps(boundary, { n, dims: s.boundaryDims })
            : null,
          gradients: r.gradients
            ? featureMaps(r.gradients, { n, dims: s.boundaryDims })
            : null,
        };
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of splits.values()) retire(s);
      splits.clear();
      source.weightsFile?.close();
    },
  };
}
