/**
 * A real worker pool on the tiny network whose `crash` method exits its
 * worker process, for the tests of crash recovery (backoff, job retries).
 *
 * @module
 */
import { checkExplain } from "../../explain/mod.ts";
import {
  builtinExplainers,
  createRegistry,
  type Registry,
} from "../../explainers/registry.ts";
import type { Logger } from "../../lib/log.ts";
import { encodePng } from "../../lib/render.ts";
import {
  createWorkerPool,
  type ExplainService,
  modelView,
} from "../../workers/mod.ts";
import { writeTinyModel } from "../_shared.ts";

const CRASH = `export default {
  name: "crash", description: "Kills its process", needsGradients: false,
  parseParams: () => ({}), explain: () => Deno.exit(99),
};`;

/** The pool, its registry, a 16×16 PNG and a way to explain it. */
export interface CrashPool {
  service: ExplainService;
  registry: Registry;
  png: Uint8Array;
  /** Explains the PNG with one method (`crash` exits the worker). */
  explain(method: string): ReturnType<ExplainService["explain"]>;
  close(): Promise<void>;
}

/** Starts the pool (one worker, WASM, one thread); logs go to `log`. */
export async function crashPool(log: Logger): Promise<CrashPool> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-crash-" });
  await Deno.writeTextFile(`${dir}/crash.js`, CRASH);
  // The server side's view of the plugin: it runs in the worker only.
  const registry = createRegistry([...builtinExplainers(), {
    name: "crash",
    description: "Kills its process",
    needsGradients: false,
    parseParams: () => ({}),
    explain: () => {
      throw new Error("runs in the worker only");
    },
  }]);
  const service = createWorkerPool({
    config: {
      models: [{
        name: "tiny",
        path: await writeTinyModel(dir),
        labels: null,
        preprocess: "tf",
        layer: null,
      }],
      engine: { backend: "wasm", threads: 1 },
      maxModelBytes: null,
      maxPixels: 1_000_000,
      plugins: [`${dir}/crash.js`],
    },
    maxWorkerMemory: 4 * 1024 ** 3,
    log,
  }, { modelNames: ["tiny"], registry });
  try {
    await service.ready();
  } catch (error) {
    await service.close();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const png = await encodePng({
    width: 16,
    height: 16,
    data: new Uint8Array(16 * 16 * 3),
  });
  return {
    service,
    registry,
    png,
    async explain(method) {
      const model = await service.describe("tiny");
      const request = checkExplain({ model: modelView(model), registry }, {
        methods: [method],
      }, { maxMethods: 1 });
      return await service.explain({ ...request, image: png });
    },
    async close() {
      await service.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
