/**
 * A model worker process (started by `pool.ts` through `model_worker.sh`):
 * loads the models, reads calls from stdin and answers on stdout (framed,
 * `protocol.ts`), several at once, each cancellable. Its stdout carries
 * frames only: anything a library prints goes to stderr, which the server
 * turns into log lines. A WebAssembly trap or an uncaught error leaves the
 * engine in an unknown state: the worker says so and exits, and the server
 * starts a fresh one.
 *
 * @module
 */
import {
  builtinExplainers,
  createRegistry,
  loadPlugins,
} from "../explainers/mod.ts";
import type { ExplainHooks, MethodRendering } from "../explain/mod.ts";
import { createRenderPool, jsonLogger, processCpuSeconds } from "../lib/mod.ts";
import {
  createModelSet,
  modelEntries,
  shutdownBackend,
} from "../models/mod.ts";
import { type CallDeps, executeCall } from "./calls.ts";
import { createPriorityGate } from "./priority.ts";
import { workStatsOf } from "./local.ts";
import { readFramesFrom } from "./frames.ts";
import { threadFrameWriter } from "./frame_writer.ts";
import {
  type FromWorker,
  toErrorData,
  type ToWorker,
  type WorkerConfig,
  type WorkerHealth,
} from "./protocol.ts";
import { pngsOnce, withoutRelayed } from "./_relay.ts";

/** Exit status of a worker whose engine can no longer be trusted. */
export const FATAL_EXIT = 70;

// Stdout is the protocol: libraries that print (TF.js, Emscripten) go to stderr.
console.log = console.error;
console.info = console.error;
console.debug = console.error;
console.warn = console.error;

const config = JSON.parse(Deno.args[0]) as WorkerConfig;
const log = jsonLogger({ level: "info" });
const writer = threadFrameWriter({
  // The server is gone: nothing to answer to.
  onGone: () => Deno.exit(0),
});

/**
 * Sends a frame to the server: handed to the writer's thread, which writes
 * it while this thread goes on. `handOver`: buffers moved with it (PNGs).
 */
function send(message: FromWorker, handOver?: ArrayBufferLike[]): void {
  writer.send(message, handOver);
}

function fatal(error: unknown): never {
  log("error", "model worker: fatal error, exiting", {
    worker: config.index,
    error,
  });
  send({ type: "fatal", error: toErrorData(error) });
  // Let the last frame out, then go (at the latest after a second).
  void writer.flush().then(() => Deno.exit(FATAL_EXIT));
  setTimeout(() => Deno.exit(FATAL_EXIT), 1000);
  throw error;
}

globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fatal(event.reason);
});
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  fatal(event.error);
});

let deps: CallDeps;
try {
  const registry = createRegistry([
    ...builtinExplainers(),
    ...await loadPlugins(config.plugins),
  ]);
  const models = createModelSet(
    modelEntries(config.models, {
      ...config.engine,
      log: (msg) => log("info", msg, { worker: config.index }),
    }),
    { maxBytes: config.maxModelBytes ?? Infinity },
  );
  deps = {
    models,
    registry,
    maxPixels: config.maxPixels,
    // Explanations of several methods encode their PNGs on two cores.
    renderer: createRenderPool(),
  };
} catch (error) {
  send({ type: "failed", error: toErrorData(error) });
  await writer.flush();
  Deno.exit(1);
}

const health = (): WorkerHealth => ({
  rss: Deno.memoryUsage().rss,
  cpuSeconds: processCpuSeconds(),
  work: workStatsOf(deps.models),
});

try {
  const model = await executeCall(deps, { kind: "describe", model: null });
  send({
    type: "ready",
    model: model as Extract<FromWorker, { type: "ready" }>["model"],
    health: health(),
  });
} catch (error) {
  send({ type: "failed", error: toErrorData(error) });
  await writer.flush();
  Deno.exit(1);
}

const running = new Map<number, AbortController>();

/**
 * The hooks of one call: every event goes to the server as it happens;
 * `sent` records which methods' maps and PNGs went (the result leaves them
 * out). PNGs already sent for an earlier method of the call (maps that
 * render alike share them) go as that method's name, not as bytes again.
 */
function eventHooks(
  id: number,
  { signal, sent }: { signal: AbortSignal; sent: Map<string, Set<string>> },
): ExplainHooks {
  const sameOrNew = pngsOnce();
  const event = (name: string) => (data: unknown) => {
    const sending = name === "rendering"
      ? sameOrNew(data as MethodRendering)
      : data;
    // A rendering's PNGs are this call's alone: they move to the writer.
    const pngs = sending as Partial<MethodRendering>;
    send(
      { type: "event", id, event: name, data: sending },
      name === "rendering"
        ? [pngs.overlay?.buffer, pngs.heatmap?.buffer].filter((b) => !!b)
        : [],
    );
    if (name === "map" || name === "rendering") {
      const method = (data as { method: string }).method;
      sent.set(method, (sent.get(method) ?? new Set()).add(name));
    }
  };
  return {
    signal,
    onAnalysis: event("analysis"),
    onProgress: (method, fraction) =>
      send({
        type: "event",
        id,
        event: "progress",
        data: { method, fraction },
      }),
    onMap: event("map"),
    onRendering: event("rendering"),
    onMethodError: (method, error) =>
      send({
        type: "event",
        id,
        event: "methodError",
        data: { method, error: toErrorData(error) },
      }),
  };
}

/** A method's own error, as data (`Error`s do not survive JSON). */
function plainOutcome(value: unknown): unknown {
  const outcome = value as { methods?: { error?: unknown }[] };
  if (!Array.isArray(outcome?.methods)) return value;
  return {
    ...outcome,
    methods: outcome.methods.map((m) =>
      m.error ? { ...m, error: toErrorData(m.error) } : m
    ),
  };
}

const gate = createPriorityGate();

async function handle(
  id: number,
  message: Extract<ToWorker, { type: "call" }>,
) {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const sent = new Map<string, Set<string>>();
    const hooks = eventHooks(id, { signal: controller.signal, sent });
    const value = await gate.run(
      message.lane,
      (pause) =>
        executeCall(deps, message.call, pause ? { ...hooks, pause } : hooks),
    );
    send({
      type: "result",
      id,
      value: withoutRelayed(plainOutcome(value), sent),
      health: health(),
    });
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) fatal(error);
    send({
      type: "error",
      id,
      error: toErrorData(error),
      health: health(),
    });
  } finally {
    running.delete(id);
  }
}

for await (const message of readFramesFrom(Deno.stdin)) {
  const m = message as ToWorker;
  if (m.type === "call") void handle(m.id, m);
  else if (m.type === "cancel") {
    running.get(m.id)?.abort(new DOMException("Cancelled", "AbortError"));
  } else if (m.type === "exit") break;
}
// The server closed our stdin or asked us to go.
for (const controller of running.values()) controller.abort();
deps.models.dispose();
deps.renderer?.close();
shutdownBackend();
await writer.flush();
Deno.exit(0);
