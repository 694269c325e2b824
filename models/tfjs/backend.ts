/**
 * Chooses and initialises the TF.js backend: WebGPU on a real GPU, else
 * WASM, else the plain JavaScript CPU backend. A failing
 * backend is logged and skipped, never fatal.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-webgpu";
import { prepareWasm, withWasmEnvironment } from "./wasm_threads.ts";

/** A backend Lumen can run on. */
export type BackendName = "webgpu" | "wasm" | "cpu";
/** What a user may ask for. */
export type BackendPreference = "auto" | BackendName;
/** Every accepted `--backend` value. */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = [
  "auto",
  "webgpu",
  "wasm",
  "cpu",
];

/** The backend actually running, and how it came to be chosen. */
export interface BackendInfo {
  name: BackendName;
  /** The WebGPU adapter, e.g. "llvmpipe (software)"; null off WebGPU. */
  adapter: string | null;
  /** Why earlier candidates were skipped, in order. */
  skipped: string[];
  /** WASM threads (1 elsewhere). */
  threads: number;
}

/** A WebGPU adapter as far as backend choice cares. */
export interface AdapterSummary {
  description: string;
  isFallback: boolean;
}

/** Seams for tests: how to find an adapter and how to start a backend. */
export interface BackendDeps {
  requestAdapter(): Promise<AdapterSummary | null>;
  /** Makes `name` the active backend; resolves false or throws on failure. */
  activate(name: BackendName): Promise<boolean>;
  /** The WASM thread count in use, when known. */
  threads?(): number;
}

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" on
 * every adapter request without it; any directory silences them.
 */
function quietMesa(): void {
  try {
    if (!Deno.env.get("XDG_RUNTIME_DIR")) {
      Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
    }
  } catch {
    // No environment access: the warning stays, nothing else changes.
  }
}

async function requestAdapter(): Promise<AdapterSummary | null> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return null;
  quietMesa();
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  // Deno reports the flag on `info`; browsers used to put it on the adapter.
  const info = (adapter.info ?? {}) as GpuAdapterInfoLike;
  const isFallback = Boolean(
    info.isFallbackAdapter ??
      (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
  // The driver's description names the device; vendor and architecture
  // are often bare PCI ids ("65541", "0"), so they are only a fallback.
  const named = info.description ||
    [info.vendor, info.architecture, info.device].filter((p) => p).join(" ");
  const description = (named || "unknown adapter") +
    (isFallback ? " (software)" : "");
  return { description, isFallback };
}

let wasmThreads: number | null = null;

async function activate(
  name: BackendName,
  threads: number,
  log: (m: string) => void,
): Promise<boolean> {
  const start = async () => {
    const ok = await tf.setBackend(name);
    await tf.ready();
    // setBackend can resolve false and leave TF.js on another backend.
    return ok && tf.getBackend() === name;
  };
  if (name !== "wasm") return await start();
  // The WASM module starts once per process, with the first thread count.
  wasmThreads ??= (await prepareWasm({ threads, log })).threads;
  return await withWasmEnvironment(wasmThreads, start);
}

/** The default WASM thread count: every core the machine reports. */
export const DEFAULT_THREADS = Math.max(1, navigator.hardwareConcurrency ?? 1);

/**
 * The real adapter lookup and TF.js activation, with `threads` WASM threads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const backend = await selectBackend("wasm", { deps: backendDeps({ threads: 1 }) }); // single-threaded
 * assert.deepEqual([backend.name, backend.threads], ["wasm", 1]);
 * shutdownBackend();
 * ```
 */
export function backendDeps(
  options: {
    threads?: number | undefined;
    log?: ((m: string) => void) | undefined;
  } = {},
): BackendDeps & { threads(): number } {
  const threads = options.threads ?? DEFAULT_THREADS;
  return {
    requestAdapter,
    activate: (name) => activate(name, threads, options.log ?? (() => {})),
    threads: () => wasmThreads ?? threads,
  };
}

/** The real adapter lookup and TF.js activation, default threads. */
export const defaultBackendDeps: BackendDeps = backendDeps();

/**
 * Activates the best backend allowed by `preference`:
 * - `auto`: `webgpu` on a real (non-fallback) adapter, else `wasm`, else `cpu`;
 * - `webgpu`: any adapter, software ones included, else as `auto` would;
 * - `wasm`: `wasm`, else `cpu`; `cpu`: `cpu`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // selectBackend("auto"): "webgpu" on a real GPU, else "wasm", else "cpu".
 * const backend = await selectBackend("cpu");
 * assert.deepEqual(backend, { name: "cpu", adapter: null, skipped: [], threads: 1 });
 * ```
 */
export async function selectBackend(
  preference: BackendPreference,
  options: {
    /** How adapters are found and backends started; @default defaultBackendDeps */
    deps?: BackendDeps | undefined;
    /** Told each backend skipped, and why; @default no logging */
    log?: ((message: string) => void) | undefined;
  } = {},
): Promise<BackendInfo> {
  const deps = options.deps ?? defaultBackendDeps;
  const log = options.log ?? (() => {});
  const skipped: string[] = [];
  const skip = (why: string) => {
    skipped.push(why);
    log(why);
  };
  let adapter: AdapterSummary | null = null;
  const candidates: BackendName[] = [];
  if (preference === "auto" || preference === "webgpu") {
    try {
      adapter = await deps.requestAdapter();
    } catch (error) {
      skip(`webgpu: adapter request failed: ${(error as Error).message}`);
    }
    if (!adapter) {
      if (skipped.length === 0) skip("webgpu: no WebGPU adapter");
    } else if (adapter.isFallback && preference === "auto") {
      skip(
        `webgpu: only a software adapter (${adapter.description}); ask for --backend webgpu to use it`,
      );
    } else {
      candidates.push("webgpu");
    }
  }
  if (preference !== "cpu") candidates.push("wasm");
  candidates.push("cpu");
  for (const name of candidates) {
    try {
      if (await deps.activate(name)) {
        return {
          name,
          adapter: name === "webgpu" ? adapter!.description : null,
          skipped,
          threads: name === "wasm" ? (deps.threads?.() ?? 1) : 1,
        };
      }
      skip(`${name}: backend did not initialise`);
    } catch (error) {
      skip(
        `${name}: backend failed to initialise: ${(error as Error).message}`,
      );
    }
  }
  throw new Error(`No TF.js backend could start: ${skipped.join("; ")}`);
}

/**
 * Releases the active backend's resources. WASM threads keep the process
 * alive until the backend is removed, so call this before exiting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * await selectBackend("wasm", { deps: backendDeps({ threads: 1 }) });
 * shutdownBackend(); // then Deno.exit(0) may end the process
 * assert.notEqual(tf.getBackend(), "wasm");
 * ```
 */
export function shutdownBackend(): void {
  for (const name of ["wasm", "webgpu"]) {
    // Not tf.findBackend: it would start a registered backend to find it.
    if (name in tf.engine().registry) tf.removeBackend(name);
  }
}
