/**
 * The models a process serves, by name: each loaded on first use, kept
 * while there is room, the least recently used idle one released when the
 * weights of the loaded models pass a byte budget.
 *
 * @module
 */
import { clientError } from "../lib/mod.ts";
import type { ModelRuntime } from "./runtime.ts";

/** One model the set can load. */
export interface ModelEntry {
  name: string;
  /** Loads (and warms up) the model. */
  load(): Promise<ModelRuntime>;
  /**
   * Loads a copy with its top layers randomized, for the sanity check;
   * absent when the model cannot be randomized.
   */
  randomized?: () => Promise<ModelRuntime>;
}

/** Options of {@linkcode createModelSet}. */
export interface ModelSetOptions {
  /**
   * Weights the loaded models may hold together, bytes; past it the least
   * recently used idle model is released. The model in use always stays.
   * @default Infinity
   */
  maxBytes?: number;
  log?: (message: string) => void;
}

/** The models of a process. */
export interface ModelSet {
  /** Every model's name, the default first. */
  readonly names: readonly string[];
  readonly defaultName: string;
  /** The entry of `name` (the default for null); `UNKNOWN_MODEL` otherwise. */
  entry(name?: string | null): ModelEntry;
  /**
   * Runs `work` with the model loaded (loading it first if needed) and
   * kept from eviction until `work` settles.
   */
  use<T>(
    name: string | null | undefined,
    work: (runtime: ModelRuntime) => Promise<T>,
  ): Promise<T>;
  /** Names of the loaded models, most recently used last. */
  loaded(): string[];
  /** The runtimes loaded so far (for metrics). */
  runtimes(): ModelRuntime[];
  /** Releases every loaded model. */
  dispose(): void;
}

interface Slot {
  runtime: Promise<ModelRuntime>;
  /** Set once loaded. */
  loaded: ModelRuntime | null;
  busy: number;
  bytes: number;
}

/**
 * Creates the set; nothing is loaded until first used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadModel } from "./load.ts";
 * // The server's: [{ name: "resnet50", load: () => loadModel() }]. Here a tiny
 * // ONNX ResNet-18 (random weights, 64×64 input).
 * const models = createModelSet([{
 *   name: "resnet18",
 *   load: () => loadModel({ model: "tests/fixtures/onnx/resnet18.onnx", threads: 1 }),
 * }]);
 * assert.deepEqual(models.loaded(), []); // nothing until first used
 * const input = new Float32Array(64 * 64 * 3);
 * const top = await models.use(null, (runtime) => runtime.run(input)); // null: the first model
 * assert.equal(top.probabilities.length, 10);
 * assert.deepEqual(models.loaded(), ["resnet18"]);
 * await assert.rejects(models.use("vgg", (runtime) => runtime.run(input)), { code: "UNKNOWN_MODEL" });
 * models.dispose();
 * ```
 */
export function createModelSet(
  entries: readonly ModelEntry[],
  options: ModelSetOptions = {},
): ModelSet {
  if (entries.length === 0) throw new Error("A model set needs a model");
  const byName = new Map<string, ModelEntry>();
  for (const entry of entries) {
    if (byName.has(entry.name)) {
      throw new Error(`Duplicate model name "${entry.name}"`);
    }
    byName.set(entry.name, entry);
  }
  const names = entries.map((e) => e.name);
  const maxBytes = options.maxBytes ?? Infinity;
  const log = options.log ?? (() => {});
  /** Loaded (or loading) models; insertion order is recency. */
  const slots = new Map<string, Slot>();

  const entry = (name?: string | null): ModelEntry => {
    const found = byName.get(name ?? names[0]);
    if (!found) {
      throw clientError(
        "UNKNOWN_MODEL",
        `Unknown model "${name}": the models are ${
          names.map((n) => `"${n}"`).join(", ")
        }`,
        { valid: names },
      );
    }
    return found;
  };

  const evict = (keep: string) => {
    let total = [...slots.values()].reduce((s, slot) => s + slot.bytes, 0);
    for (const [name, slot] of slots) {
      if (total <= maxBytes) return;
      if (name === keep || slot.busy > 0 || slot.bytes === 0) continue;
      slots.delete(name);
      total -= slot.bytes;
      log(
        `model ${name} released (weights over the budget of ${maxBytes} bytes)`,
      );
      slot.runtime.then((r) => r.dispose(), () => {});
    }
  };

  const acquire = (name: string): Slot => {
    let slot = slots.get(name);
    if (slot) {
      slots.delete(name);
    } else {
      const loading = byName.get(name)!.load();
      slot = { runtime: loading, loaded: null, busy: 0, bytes: 0 };
      const loaded = slot;
      loading.then((runtime) => {
        loaded.loaded = runtime;
        loaded.bytes = runtime.weightBytes;
        evict(name);
      }, () => {
        // A failed load is forgotten: the next use tries again.
        if (slots.get(name) === loaded) slots.delete(name);
      });
    }
    slots.set(name, slot);
    return slot;
  };

  return {
    names,
    defaultName: names[0],
    entry,
    async use(name, work) {
      const { name: resolved } = entry(name);
      const slot = acquire(resolved);
      slot.busy++;
      try {
        return await work(await slot.runtime);
      } finally {
        slot.busy--;
        // Used until now: the most recent.
        if (slots.get(resolved) === slot) {
          slots.delete(resolved);
          slots.set(resolved, slot);
        }
        evict(resolved);
      }
    },
    loaded: () => [...slots.keys()],
    runtimes: () =>
      [...slots.values()].flatMap((s) => s.loaded ? [s.loaded] : []),
    dispose() {
      for (const slot of slots.values()) {
        slot.runtime.then((r) => r.dispose(), () => {});
      }
      slots.clear();
    },
  };
}
