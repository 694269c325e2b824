/**
 * Starting a model worker process: the script that grants its permissions,
 * the files it may read, its configuration with absolute paths, and its
 * stderr turned into log lines.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../lib/mod.ts";
import type { WorkerConfig } from "./protocol.ts";

/** The project root: workers start there. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The script a worker process starts through. */
export const SCRIPT = fileURLToPath(
  new URL("./model_worker.sh", import.meta.url),
);

/**
 * Paths a worker may read: the project, the model and label files the
 * operator named (a `model.json`'s folder, for its weight shards) wherever
 * they are — the server itself never reads them, and the worker has no
 * network to send them anywhere — and the plugins' folders (for their
 * imports) where the server may read them, since it imports them too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHIPPED_MODEL } from "../models/mod.ts";
 * const config = {
 *   models: [{ ...SHIPPED_MODEL, path: "/data/net.onnx" }],
 *   engine: {}, maxModelBytes: null, maxPixels: 40_000_000, plugins: [],
 * };
 * assert.deepEqual(readablePaths(config), [ROOT, "/data/net.onnx"]);
 * ```
 */
export function readablePaths(config: Omit<WorkerConfig, "index">): string[] {
  const models = config.models.flatMap((m) => [
    m.path?.endsWith(".json") ? dirname(m.path) : m.path,
    m.labels,
  ]).filter((p): p is string => p !== null).map((p) => resolve(p));
  const plugins = config.plugins.map((p) => resolve(dirname(p)))
    .filter((path) => {
      try {
        return Deno.permissions.querySync({ name: "read", path }).state ===
          "granted";
      } catch {
        return false;
      }
    });
  const cache = config.engine.weightsFolder;
  return [
    ROOT,
    ...new Set([...models, ...plugins, ...(cache ? [resolve(cache)] : [])]),
  ];
}

/**
 * Paths a worker may write: the weights cache folder, if any (nothing
 * else).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHIPPED_MODEL } from "../models/mod.ts";
 * const config = {
 *   models: [SHIPPED_MODEL], engine: { weightsFolder: "/var/cache/lumen" },
 *   maxModelBytes: null, maxPixels: 40_000_000, plugins: [],
 * };
 * assert.deepEqual(writablePaths(config), ["/var/cache/lumen"]);
 * assert.deepEqual(writablePaths({ ...config, engine: {} }), []);
 * ```
 */
export function writablePaths(config: Omit<WorkerConfig, "index">): string[] {
  const cache = config.engine.weightsFolder;
  return cache ? [resolve(cache)] : [];
}

/**
 * The `GLIBC_TUNABLES` a worker runs with: the caller's, plus
 * `glibc.malloc.hugetlb=1` unless they set it themselves. glibc then asks
 * for transparent huge pages for the memory `malloc` maps (where the
 * system grants them on request, THP "madvise", the common default), so a
 * buffer touched for the first time faults once per 2 MiB instead of once
 * per 4 KiB page. On the virtual machines we measured a fault costs about
 * 13 µs, and a worker's buffers (the image, rows, PNGs, frames of a few
 * hundred kilobytes each) are mostly fresh: in alternating server runs,
 * Grad-CAM over HTTP was faster in 5 of 6 (median 5 ms), six CAMs in 5 of
 * 6 (median 7 ms). The price is memory in 2 MiB steps: the bench's peak
 * with both engines rose by 5 and 42 MB in two runs, a WASM worker's idle
 * size by 100 MiB (RELIABILITY.md). Other C libraries ignore the variable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(workerTunables(undefined), "glibc.malloc.hugetlb=1");
 * assert.equal(workerTunables("glibc.malloc.arena_max=2"), "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
 * assert.equal(workerTunables("glibc.malloc.hugetlb=0"), "glibc.malloc.hugetlb=0"); // the operator's choice stands
 * ```
 */
export function workerTunables(current: string | undefined): string {
  if (current && /(^|:)glibc\.malloc\.hugetlb=/.test(current)) return current;
  return current
    ? `${current}:glibc.malloc.hugetlb=1`
    : "glibc.malloc.hugetlb=1";
}

/** The config with every path absolute (workers start in the project root). */
export function absolute(config: Omit<WorkerConfig, "index">) {
  return {
    ...config,
    models: config.models.map((m) => ({
      ...m,
      path: m.path === null ? null : resolve(m.path),
      labels: m.labels === null ? null : resolve(m.labels),
    })),
    plugins: config.plugins.map((p) => resolve(p)),
    engine: {
      ...config.engine,
      ...(config.engine.weightsFolder
        ? { weightsFolder: resolve(config.engine.weightsFolder) }
        : {}),
    },
  };
}

/** Forwards a worker's stderr: JSON log lines with the worker added, other text as info lines. */
export async function forwardLog(
  stream: ReadableStream<Uint8Array>,
  to: {
    /** The worker's index, added to every line. */
    worker: number;
    /** Where the lines go. */
    log: Logger;
  },
): Promise<void> {
  const { worker, log } = to;
  let rest = "";
  const decoder = new TextDecoderStream() as unknown as TransformStream<
    Uint8Array,
    string
  >;
  for await (const text of stream.pipeThrough(decoder)) {
    rest += text;
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        const { level, msg, ...fields } = JSON.parse(line);
        log(level ?? "info", String(msg), { worker, ...fields });
      } catch {
        log("info", line, { worker });
      }
    }
  }
}
