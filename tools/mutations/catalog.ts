/**
 * The mutations `tools/mutate.ts` runs: each breaks one promised behaviour
 * in a scratch copy, and names the test file that must then fail. Patterns
 * are exact text that must occur once (see `apply.ts`), so a mutation whose
 * code moved fails loudly instead of testing nothing.
 *
 * @module
 */
import type { Mutation } from "./apply.ts";

/**
 * Every mutation, in the order they run.
 *
 * @example
 * ```ts
 * MUTATIONS.find((m) => m.name === "scheduler-refuses-all")!.tests; // ["tests/server/load_test.ts"]
 * ```
 */
export const MUTATIONS: readonly Mutation[] = [
  {
    name: "scheduler-refuses-all",
    claim:
      "Work within the queue bound is admitted, not refused with OVERLOADED",
    file: "workers/scheduler.ts",
    from: "if (!free && waiting[lane].length >= maxQueued) {",
    to: "if (free || !free) {",
    tests: ["tests/server/load_test.ts"],
  },
  {
    name: "pass-cache-fifo",
    claim: "The pass cache evicts the least recently used state",
    file: "models/pass_cache.ts",
    from:
      "      stats.hits++;\n      entries.delete(key);\n      entries.set(key, state);\n",
    to: "      stats.hits++;\n",
    tests: ["tests/models/pass_cache_test.ts"],
  },
  {
    name: "pass-cache-no-byte-cap",
    claim: "The pass cache holds at most its byte budget",
    file: "models/pass_cache.ts",
    from: "(entries.size > maxEntries || bytes > maxBytes)",
    to: "(entries.size > maxEntries)",
    tests: ["tests/models/pass_cache_test.ts"],
  },
  {
    name: "pass-cache-default-256mib",
    claim: "The pass cache's default byte budget is 128 MiB",
    file: "models/pass_cache.ts",
    from: "options.maxBytes ?? 128 * 1024 * 1024",
    to: "options.maxBytes ?? 256 * 1024 * 1024",
    tests: ["tests/models/pass_cache_test.ts"],
  },
  {
    name: "shutdown-keeps-idle-connections",
    claim: "Shutdown closes idle keep-alive connections at once",
    file: "server/serve.ts",
    from: "if (count === 0) socket.destroy();",
    to: "if (count < 0) socket.destroy();",
    tests: ["tests/server/serve_test.ts"],
  },
  {
    name: "upload-read-before-size-check",
    claim: "An oversized upload is refused from its size, before it is read",
    file: "schema/image_input.ts",
    from: "      if (source.file.size > options.maxBytes) {\n" +
      "        tooLarge(source.file.size, options.maxBytes);\n" +
      "      }\n" +
      "      return new Uint8Array(await source.file.arrayBuffer());",
    to:
      "      const read = new Uint8Array(await source.file.arrayBuffer());\n" +
      "      if (read.length > options.maxBytes) {\n" +
      "        tooLarge(read.length, options.maxBytes);\n" +
      "      }\n" +
      "      return read;",
    tests: ["tests/schema/image_input_test.ts"],
  },
];
