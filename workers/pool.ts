/**
 * Model work in supervised worker processes, one per slot: the server's
 * event loop never runs a model, so `/health` and `/ready` answer in
 * milliseconds whatever the model does. The pool
 * - starts each worker through `model_worker.sh` (its own narrow
 *   permissions) and forwards what it prints as log lines;
 * - sends calls and relays their events; a call whose signal aborts is
 *   cancelled in the worker, and a worker that has not stopped it within
 *   `cancelGraceMs` is killed and replaced (`timeout`);
 * - answers `MODEL_CRASHED` (retryable) for every call a worker held when it
 *   died (a WebAssembly trap, an abort, out of memory) and starts a fresh
 *   one (`crash`);
 * - replaces a worker whose resident memory passed `maxWorkerMemory` once
 *   it is idle, so memory comes back (`memory`).
 *
 * @module
 */
import type { ExplainHooks } from "../explain/mod.ts";
import { clientError, type Logger } from "../lib/mod.ts";
import type { Call, CallResults } from "./calls.ts";
import {
  createService,
  type Executor,
  type ServiceOptions,
} from "./dispatch.ts";
import { relay, type RelayedParts, reviveOutcome } from "./_relay.ts";
import {
  absolute,
  forwardLog,
  readablePaths,
  ROOT,
  SCRIPT,
  workerTunables,
  writablePaths,
} from "./_spawn.ts";
import { encodeFrameParts, readFrames } from "./frames.ts";
import {
  fromErrorData,
  type FromWorker,
  type WorkerConfig,
  type WorkerHealth,
} from "./protocol.ts";
import type { Lane } from "./scheduler.ts";
import type { ExplainService, ModelDescription, WorkStats } from "./service.ts";

/** Options of {@linkcode poolExecutor}. */
export interface PoolOptions {
  /** What every worker loads (paths are resolved against the working directory). */
  config: Omit<WorkerConfig, "index">;
  /** Worker processes (slots). @default 1 */
  workers?: number;
  /** Resident memory past which an idle worker is replaced, bytes. */
  maxWorkerMemory: number;
  /** Time a cancelled call may take to stop before its worker is killed. @default 5000 */
  cancelGraceMs?: number;
  log: Logger;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  hooks: ExplainHooks;
  /** The maps and PNGs its events carried (not sent again in the result). */
  parts: RelayedParts;
  killTimer?: ReturnType<typeof setTimeout>;
}

interface Worker {
  index: number;
  child: Deno.ChildProcess | null;
  ready: Promise<ModelDescription>;
  pending: Map<number, Pending>;
  health: WorkerHealth | null;
  /** Set when the worker should be replaced once idle. */
  retire: "memory" | null;
  /** Set once the process has exited. */
  dead: boolean;
  /** Resident memory right after loading the model, bytes. */
  baseline: number;
  send(message: unknown): void;
}

const EMPTY_WORK: WorkStats = {
  forward: 0,
  backward: 0,
  batchItems: 0,
  batches: 0,
  cacheHits: 0,
  cacheMisses: 0,
  cacheEntries: 0,
  cacheBytes: 0,
  tensors: 0,
  tensorBytes: 0,
};

function crashed(why: string): Error {
  return clientError(
    "MODEL_CRASHED",
    `The model worker stopped (${why}) while running this request; a fresh one is starting: retry`,
  );
}

/**
 * An executor running calls in worker processes.
 *
 * @example
 * ```ts ignore
 * // Starts worker processes (each loads the models): seconds.
 * const executor = poolExecutor({ config, workers: 2, maxWorkerMemory: 1.25 * 2 ** 30, log });
 * ```
 */
export function poolExecutor(options: PoolOptions): Executor {
  const count = Math.max(1, options.workers ?? 1);
  const cancelGraceMs = options.cancelGraceMs ?? 5000;
  const { log } = options;
  const config = absolute(options.config);
  const read = readablePaths(options.config).join(",");
  const write = writablePaths(options.config).join(",");
  const restarts: Record<string, number> = {};
  let closing = false;
  let nextId = 0;
  let failed: Error | null = null;

  const start = (index: number): Worker => {
    const command = new Deno.Command(SCRIPT, {
      args: [JSON.stringify({ ...config, index })],
      cwd: ROOT,
      env: {
        GLIBC_TUNABLES: workerTunables(Deno.env.get("GLIBC_TUNABLES")),
        LUMEN_DENO: Deno.execPath(),
        LUMEN_WORKER_READ: read,
        LUMEN_WORKER_WRITE: write,
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    const child = command.spawn();
    const stdin = child.stdin.getWriter();
    const ready = Promise.withResolvers<ModelDescription>();
    ready.promise.catch(() => {});
    let everReady = false;
    const worker: Worker = {
      index,
      child,
      ready: ready.promise,
      pending: new Map(),
      health: null,
      retire: null,
      dead: false,
      baseline: 0,
      send(message) {
        for (const part of encodeFrameParts(message)) {
          stdin.write(part).catch(() => {
            // The worker is gone; its exit fails what it held.
          });
        }
      },
    };
    void forwardLog(child.stderr, { worker: index, log });
    const settle = (id: number, settle: (p: Pending) => void) => {
      const pending = worker.pending.get(id);
      if (!pending) return;
      clearTimeout(pending.killTimer);
      worker.pending.delete(id);
      settle(pending);
    };
    (async () => {
      for await (const frame of readFrames(child.stdout)) {
        const message = frame as FromWorker;
        switch (message.type) {
          case "ready":
            worker.health = message.health;
            worker.baseline = message.health.rss;
            everReady = true;
            if (worker.baseline > options.maxWorkerMemory && !warned) {
              warned = true;
              log(
                "warn",
                "the model alone is over the worker memory budget: raise --max-model-memory",
                {
                  worker: index,
                  rss: worker.baseline,
                  budget: options.maxWorkerMemory,
                },
              );
            }
            ready.resolve(message.model);
            break;
          case "failed":
            ready.reject(fromErrorData(message.error));
            break;
          case "event":
            {
              const pending = worker.pending.get(message.id);
              relay(pending?.hooks, message, pending?.parts);
            }
            break;
          case "result":
            worker.health = message.health;
            settle(message.id, (p) => {
              try {
                p.resolve(reviveOutcome(message.value, p.parts));
              } catch (error) {
                p.reject(error as Error);
              }
            });
            break;
          case "error":
            worker.health = message.health;
            settle(message.id, (p) => p.reject(fromErrorData(message.error)));
            break;
          case "fatal":
            log("error", "model worker: fatal error", {
              worker: index,
              error: message.error.message,
            });
            break;
        }
        if (message.type === "result" || message.type === "error") {
          checkMemory(worker);
        }
      }
    })().catch((error) => {
      // Its output can no longer be read (something beside the protocol
      // wrote to its stdout), so nothing it sends would arrive: its calls
      // fail now, as in a crash, and a fresh worker takes over.
      log("error", "model worker: unreadable output, replacing it", {
        worker: index,
        error: (error as Error).message,
      });
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    });
    child.status.then(({ code, signal }) => {
      worker.dead = true;
      retiredCpuSeconds += worker.health?.cpuSeconds ?? 0;
      ready.reject(new Error(`the model worker exited (${signal ?? code})`));
      const reason = worker.retire ??
        (killedForTimeout.has(worker) ? "timeout" : "crash");
      killedForTimeout.delete(worker);
      for (const [id, p] of worker.pending) {
        clearTimeout(p.killTimer);
        worker.pending.delete(id);
        p.reject(
          crashed(reason === "crash" ? `exit ${signal ?? code}` : reason),
        );
      }
      // A worker that never loaded its model would fail the same way again.
      if (closing || !everReady) return;
      restarts[reason] = (restarts[reason] ?? 0) + 1;
      // Crashing again and again: wait longer each time (at most 5 s).
      const now = performance.now();
      recentCrashes = now - lastCrash < 10_000 ? recentCrashes + 1 : 0;
      lastCrash = reason === "memory" ? lastCrash : now;
      const delay = reason === "memory" || recentCrashes === 0
        ? 0
        : Math.min(5000, 250 * 2 ** recentCrashes);
      log(reason === "memory" ? "info" : "warn", "model worker replaced", {
        worker: index,
        reason,
        exit: signal ?? code,
        delayMs: delay,
      });
      setTimeout(() => {
        if (!closing) workers[index] = start(index);
      }, delay);
    });
    return worker;
  };

  const killedForTimeout = new Set<Worker>();
  let recentCrashes = 0;
  /** CPU time of the workers that were replaced, as of their last answers. */
  let retiredCpuSeconds = 0;
  let lastCrash = -Infinity;
  let warned = false;
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) workers.push(start(i));

  /**
   * Replaces an idle worker that grew past the memory budget (not one that
   * was over it from the start: a fresh one would be too).
   */
  const checkMemory = (worker: Worker) => {
    const rss = worker.health?.rss ?? 0;
    const grew = rss > Math.max(options.maxWorkerMemory, worker.baseline * 1.1);
    if (grew && !worker.retire) {
      worker.retire = "memory";
      log(
        "info",
        "model worker over its memory budget: replacing it when idle",
        {
          worker: worker.index,
          rss,
          budget: options.maxWorkerMemory,
        },
      );
    }
    if (worker.retire && worker.pending.size === 0) {
      worker.send({ type: "exit" });
    }
  };

  const ready = workers[0].ready.catch((error) => {
    failed = error;
    throw error;
  });
  ready.catch(() => {});

  return {
    slots: count,
    ready,
    async run<K extends Call["kind"]>(
      slot: number,
      call: Extract<Call, { kind: K }>,
      hooks: ExplainHooks & { signal: AbortSignal; lane: Lane },
    ): Promise<CallResults[K]> {
      if (failed) throw failed;
      // A worker being replaced: wait for the fresh one to be ready.
      let worker = workers[slot];
      for (;;) {
        if (closing) throw crashed("shutting down");
        hooks.signal.throwIfAborted();
        if (!worker.retire && !worker.dead) {
          await worker.ready.catch(() => {});
          if (!worker.retire && !worker.dead) break;
        }
        await new Promise((r) => setTimeout(r, 20));
        worker = workers[slot];
      }
      const id = ++nextId;
      return await new Promise<CallResults[K]>((resolve, reject) => {
        const pending: Pending = {
          resolve: resolve as (value: unknown) => void,
          reject,
          hooks,
          parts: new Map(),
        };
        worker.pending.set(id, pending);
        const onAbort = () => {
          if (!worker.pending.has(id)) return;
          worker.send({ type: "cancel", id });
          // Work that does not stop is stopped for real.
          pending.killTimer = setTimeout(() => {
            if (!worker.pending.has(id) || !worker.child) return;
            log(
              "warn",
              "model worker did not stop a cancelled call: killing it",
              {
                worker: worker.index,
                graceMs: cancelGraceMs,
              },
            );
            killedForTimeout.add(worker);
            worker.child.kill("SIGKILL");
          }, cancelGraceMs);
        };
        hooks.signal.addEventListener("abort", onAbort, { once: true });
        worker.send({ type: "call", id, call, lane: hooks.lane });
      });
    },
    workStats() {
      const total = { ...EMPTY_WORK };
      for (const w of workers) {
        for (const [key, value] of Object.entries(w.health?.work ?? {})) {
          total[key as keyof WorkStats] += value as number;
        }
      }
      return total;
    },
    workerStats: () => ({
      alive: workers.filter((w) => w.health !== null).length,
      restarts: { ...restarts },
      residentBytes: workers.reduce((s, w) => s + (w.health?.rss ?? 0), 0),
      cpuSeconds: workers.reduce(
        (s, w) => s + (w.dead ? 0 : w.health?.cpuSeconds ?? 0),
        retiredCpuSeconds,
      ),
    }),
    async close() {
      closing = true;
      await Promise.all(workers.map(async (w) => {
        if (!w.child) return;
        w.send({ type: "exit" });
        const timer = setTimeout(() => w.child?.kill("SIGKILL"), 2000);
        await w.child.status;
        clearTimeout(timer);
      }));
    },
  };
}

/**
 * The explanation service over worker processes: the server's.
 *
 * @example
 * ```ts ignore
 * // Starts worker processes (each loads the models): seconds.
 * const service = createWorkerPool({ config, maxWorkerMemory, log }, { modelNames, registry });
 * ```
 */
export function createWorkerPool(
  pool: PoolOptions,
  service: ServiceOptions,
): ExplainService {
  return createService(poolExecutor(pool), service);
}
