/**
 * ONNX Runtime sessions as the engine uses them: the native binding loaded
 * on first use (so that nothing needs `--allow-ffi` until an ONNX engine is
 * asked for), one set of session options, and a session handle that is
 * released only once no run is using it.
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import { ModelLoadError } from "../tfjs/io.ts";
import type { ExternalFile, SessionModel } from "./external_data.ts";

/** The `onnxruntime-node` module. */
export type OrtModule = typeof Ort;

let ortModule: Promise<OrtModule> | null = null;

/**
 * Loads the ONNX Runtime binding once per process. Rejects with a
 * `ModelLoadError` when it cannot load (no `--allow-ffi`, missing binary).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ort = await loadOrt(); // needs --allow-ffi for the native binding
 * assert.equal(ort.env.versions.common, "1.30.0");
 * assert.equal(await loadOrt(), ort); // once per process
 * ```
 */
export function loadOrt(): Promise<OrtModule> {
  ortModule ??= import("onnxruntime-node").then(
    (m) => {
      // Warnings (unused initializers, fallbacks) are not for our users.
      m.env.logLevel = "error";
      return m as OrtModule;
    },
    (error) => {
      ortModule = null;
      throw new ModelLoadError(
        `ONNX Runtime did not load: ${(error as Error).message}`,
      );
    },
  );
  return ortModule;
}

/** Options of {@linkcode sessionOptions}. */
export interface SessionSettings {
  /** Threads per operator. */
  threads: number;
}

/**
 * Session options for CPU inference: all graph optimisations, `threads`
 * intra-op threads that spin while a run is under way (between operators:
 * blocking and waking them cost a ResNet-50 forward 3–4 ms of its 25 here)
 * and stop spinning when it returns (the process has other work for the
 * cores next: rendering, the next request; ONNX Runtime's default keeps
 * them spinning, ~28 ms of CPU in the 100 ms after a run), ONNX Runtime's
 * memory arena, warnings off. The arena keeps a session's run buffers (and
 * its largest batch's) instead of handing them back to glibc after each
 * run: with the weights in a file the heap is lean, and in ~1 process in 8
 * glibc then gave ResNet-50's buffers back to the system and took them again
 * every run (~1900 page faults), a forward of 38 ms instead of 23 for the
 * process's life; with the arena, 0 of 16.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // ort.InferenceSession.create(bytes, sessionOptions({ threads: 2 }))
 * const options = sessionOptions({ threads: 2 });
 * assert.equal(options.intraOpNumThreads, 2);
 * assert.equal(options.enableCpuMemArena, true); // run buffers are kept for the next run
 * ```
 */
export function sessionOptions(
  settings: SessionSettings,
): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
    extra: {
      session: {
        intra_op: { allow_spinning: "1" },
        inter_op: { allow_spinning: "1" },
        force_spinning_stop: "1",
      },
    },
  };
}

let open = 0;

/**
 * Sessions created and not yet freed, in this process (for leak checks and
 * metrics).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ort = await loadOrt();
 * const before = openSessions();
 * const handle = await createSession(ort, await Deno.readFile("tests/fixtures/onnx/resnet18.onnx"), { threads: 1 });
 * assert.equal(openSessions(), before + 1);
 * handle.release(); // an engine's dispose() releases its sessions
 * assert.equal(openSessions(), before);
 * ```
 */
export function openSessions(): number {
  return open;
}

/** Runs a session: feeds in, the named outputs out. */
export type RunFn = (
  feeds: Record<string, Ort.Tensor>,
  fetches: readonly string[],
) => Promise<Record<string, Ort.Tensor>>;

/** A session shared by concurrent passes; freed when the last one ends. */
export interface SessionHandle {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Holds the session for the duration of `work`. */
  use<T>(work: (run: RunFn) => Promise<T>): Promise<T>;
  /** Frees the session now, or once the work under way is done. */
  release(): void;
}

/**
 * Creates a session from model bytes, or from a {@linkcode SessionModel}
 * (graph bytes and the in-memory files its weights are in: the handle keeps
 * them alive until the session is freed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeModel, type ModelProto } from "./proto.ts";
 * import { floatTensor } from "./tensors.ts";
 * // y = 2x, as an ONNX model.
 * const model: ModelProto = {
 *   irVersion: 8, opsetImport: [{ domain: "", version: 17 }], producerName: "", producerVersion: "",
 *   graph: {
 *     name: "double",
 *     nodes: [{ name: "mul", opType: "Mul", domain: "", inputs: ["x", "two"], outputs: ["y"], attributes: [] }],
 *     initializers: [floatTensor("two", { dims: [], data: new Float32Array([2]) })],
 *     inputs: [{ name: "x", elemType: 1, shape: [2] }],
 *     outputs: [{ name: "y", elemType: 1, shape: [2] }],
 *     valueInfo: [],
 *   },
 * };
 * const ort = await loadOrt();
 * const handle = await createSession(ort, encodeModel(model), { threads: 1 });
 * const x = new ort.Tensor("float32", new Float32Array([1, 2]), [2]);
 * const out = await handle.use((run) => run({ x }, ["y"]));
 * handle.release();
 * assert.deepEqual(out.y?.data, new Float32Array([2, 4]));
 * out.y?.dispose();
 * ```
 */
export async function createSession(
  ort: OrtModule,
  model: Uint8Array | SessionModel,
  settings: SessionSettings,
): Promise<SessionHandle> {
  let files: readonly ExternalFile[] | null = null;
  let bytes = model as Uint8Array;
  let folder: string | null = null;
  if (!(model instanceof Uint8Array)) ({ bytes, files, folder } = model);
  const options = sessionOptions(settings);
  if (folder !== null) {
    options.extra = {
      session: {
        ...(options.extra as { session: object }).session,
        model_external_initializers_file_folder_path: folder,
      },
    };
  }
  const session = await ort.InferenceSession.create(
    bytes,
    files?.length ? { ...options, externalData: [...files] } : options,
  );
  open++;
  let using = 0;
  let released = false;
  let freed = false;
  const free = () => {
    if (freed) return;
    freed = true;
    open--;
    files = null;
    session.release().catch(() => {});
  };
  const run: RunFn = async (feeds, fetches) =>
    await session.run(feeds, fetches) as Record<string, Ort.Tensor>;
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async use(work) {
      if (freed) throw new Error("Session error: the session was released");
      using++;
      try {
        return await work(run);
      } finally {
        using--;
        if (released && using === 0) free();
      }
    },
    release() {
      released = true;
      if (using === 0) free();
    },
  };
}
