/**
 * Multi-threaded WASM for TF.js in Deno.
 *
 * TF.js takes Deno for Node.js (`process.versions.node` is set) and so runs
 * its WASM backend single-threaded. The browser build can run threaded here
 * with four adjustments, made only while the backend starts:
 * - the multithread feature flag is forced on;
 * - `process` is hidden, so Emscripten takes its web path;
 * - `navigator.hardwareConcurrency` is raised (TF.js caps its thread pool at
 *   half of it);
 * - Emscripten's classic `new Worker(blobUrl)` is routed to a module-worker
 *   shim (`wasm_thread_worker.js`) that evaluates the classic script.
 * An error inside a pthread worker would end the process: it is caught,
 * logged and counted instead.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** What the threaded backend setup reports. */
export interface WasmThreadsInfo {
  threads: number;
  /** Errors raised in pthread workers since start-up. */
  readonly workerErrors: number;
}

let installed = false;
const state = { workerErrors: 0 };

function installWorkerShim(log: (m: string) => void): void {
  if (installed) return;
  installed = true;
  const shimUrl = new URL("./wasm_thread_worker.js", import.meta.url).href;
  const Base = globalThis.Worker;
  class ClassicWorkerShim extends Base {
    #queue: [unknown, Transferable[] | undefined][] | null = [];
    constructor(url: string | URL, options?: WorkerOptions) {
      if (options?.type === "module") {
        super(url, options);
        this.#queue = null;
        return;
      }
      super(shimUrl, { type: "module", name: "tfjs-wasm-pthread" });
      this.addEventListener("error", (event) => {
        event.preventDefault();
        state.workerErrors++;
        log(`WASM worker error: ${event.message}`);
      });
      fetch(url).then((r) => r.text()).then((code) => {
        super.postMessage({ lumenWorkerScript: code });
        for (const [message, transfer] of this.#queue ?? []) {
          super.postMessage(message, transfer ?? []);
        }
        this.#queue = null;
      }).catch((error) => {
        state.workerErrors++;
        log(`WASM worker script failed to load: ${error}`);
      });
    }
    override postMessage(message: unknown, transfer?: unknown): void {
      const list = Array.isArray(transfer)
        ? transfer as Transferable[]
        : undefined;
      if (this.#queue) this.#queue.push([message, list]);
      else super.postMessage(message, list ?? []);
    }
  }
  globalThis.Worker = ClassicWorkerShim as typeof Worker;
}

/**
 * Registers the browser build of the WASM backend as "wasm", set up for
 * `threads` threads (1 = single-threaded, no workers). Call before the
 * backend is first activated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Then the backend starts under withWasmEnvironment (selectBackend("wasm") does both).
 * const info = await prepareWasm({ threads: 1 }); // 1: no workers
 * assert.equal(info.threads, 1);
 * assert.equal(info.workerErrors, 0);
 * ```
 */
export async function prepareWasm(
  options: { threads: number; log?: (m: string) => void },
): Promise<WasmThreadsInfo> {
  const log = options.log ?? (() => {});
  // The browser build; the default entry would register a second backend.
  const wasm = await import(
    "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.fesm.js"
  );
  const dist = new URL(
    "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/",
    import.meta.url,
  );
  wasm.setWasmPaths(dist.href, true);
  const threads = Math.max(1, Math.floor(options.threads));
  if (threads > 1) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    wasm.setThreadsCount(threads);
    installWorkerShim(log);
  } else {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  }
  return {
    threads,
    get workerErrors() {
      return state.workerErrors;
    },
  };
}

/**
 * Runs `start` (which activates the WASM backend) with `process` hidden, so
 * Emscripten takes its web path, and, for `threads` > 1,
 * `navigator.hardwareConcurrency` raised so that TF.js agrees to start that
 * many threads. Both are restored afterwards.
 */
export async function withWasmEnvironment<T>(
  threads: number,
  start: () => Promise<T>,
): Promise<T> {
  const g = globalThis as { process?: unknown };
  const processDescriptor = Object.getOwnPropertyDescriptor(g, "process");
  Object.defineProperty(g, "process", {
    value: undefined,
    configurable: true,
    writable: true,
  });
  if (threads > 1) {
    Object.defineProperty(navigator, "hardwareConcurrency", {
      value: threads * 2,
      configurable: true,
    });
  }
  // Emscripten binds console.warn at start-up; it warns on every blocking
  // wait of the main thread, which is how TF.js joins its pool: filter that.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).startsWith("Blocking on the main thread")) return;
    warn(...args);
  };
  try {
    return await start();
  } finally {
    console.warn = warn;
    if (processDescriptor) {
      Object.defineProperty(g, "process", processDescriptor);
    } else delete g.process;
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}
