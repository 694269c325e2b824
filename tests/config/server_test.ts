import assert from "node:assert/strict";
import {
  DEFAULT_MAX_MODEL_MEMORY,
  DEFAULT_SHUTDOWN_GRACE_MS,
  parseServerConfig,
  UsageError,
} from "../../config/mod.ts";
import { SHIPPED_MODEL } from "../../models/mod.ts";
import { DEFAULT_LIMITS } from "../../schema/mod.ts";

Deno.test("parseServerConfig: defaults, flags and environment", () => {
  const defaults = parseServerConfig([], {});
  assert.equal(defaults.port, 8000);
  assert.equal(defaults.hostname, "0.0.0.0");
  assert.equal(defaults.backend, "auto");
  assert.deepEqual(defaults.allowUrlHosts, []);
  assert.equal(defaults.allowPrivateUrls, false);
  assert.deepEqual(defaults.limits, DEFAULT_LIMITS);
  assert.equal(defaults.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS);
  assert.equal(defaults.production, false);
  assert.equal(defaults.graphiql, null);
  assert.equal(defaults.introspection, null);
  assert.equal(defaults.logLevel, "info");
  assert.equal(defaults.threads, null);

  const env = parseServerConfig([], {
    PORT: "9001",
    LUMEN_BACKEND: "cpu",
    LUMEN_THREADS: "1",
  });
  assert.equal(env.port, 9001);
  assert.equal(env.backend, "cpu");
  assert.equal(env.threads, 1);
  assert.equal(parseServerConfig(["--threads", "2"], {}).threads, 2);
  assert.equal(defaults.batch, 1);
  assert.equal(parseServerConfig(["--batch", "4"], {}).batch, 4);
  assert.deepEqual(defaults.models, [SHIPPED_MODEL]);
  assert.equal(defaults.maxModelMemory, DEFAULT_MAX_MODEL_MEMORY);
  assert.equal(defaults.maxModelBytes, null);
  assert.deepEqual(defaults.corsOrigins, []);

  const flags = parseServerConfig([
    "--",
    "--port",
    "0",
    "--backend=wasm",
    "--allow-url-host",
    "a.example",
    "--allow-url-host",
    "b.example",
    "--allow-private-urls",
    "--plugin",
    "x.ts",
    "--model",
    "tiny/model.json",
    "--preprocessing",
    "torch",
    "--cors-origin",
    "https://app.example",
    "--max-model-memory",
    "2G",
    "--max-model-bytes",
    "512M",
  ], { PORT: "9001", LUMEN_BACKEND: "cpu" });
  assert.equal(flags.port, 0);
  assert.equal(flags.backend, "wasm");
  assert.deepEqual(flags.allowUrlHosts, ["a.example", "b.example"]);
  assert.equal(flags.allowPrivateUrls, true);
  assert.deepEqual(flags.plugins, ["x.ts"]);
  assert.deepEqual(flags.models, [{
    name: "tiny",
    path: "tiny/model.json",
    labels: null,
    preprocess: "torch",
    layer: null,
  }]);
  assert.deepEqual(flags.corsOrigins, ["https://app.example"]);
  assert.equal(flags.maxModelMemory, 2 * 1024 ** 3);
  assert.equal(flags.maxModelBytes, 512 * 1024 ** 2);
});

Deno.test("parseServerConfig: bad flags are usage errors", () => {
  for (
    const args of [
      ["--nope"],
      ["--port", "http"],
      ["--port", "70000"],
      ["--threads", "0"],
      ["--batch", "0"],
      ["--backend", "tpu"],
      ["--preprocessing", "tf"],
      ["--model", "a.onnx", "--model", "b.onnx", "--labels", "l.txt"],
      ["--model", "x=a.onnx", "--model", "x=b.onnx"],
      ["--model", "a.pt"],
      ["--model", "a.onnx,preprocess=bgr"],
      ["--cors-origin", "*"],
      ["--cors-origin", "https://app.example/"],
      ["--max-model-memory", "lots"],
      ["--max-request-passes", "0"],
      ["--allow-url-host", "http://x/"],
      ["stray"],
      ["--concurrency", "0"],
      ["--max-queue", "-1"],
      ["--max-image-bytes", "20MB"],
      ["--request-timeout-ms", "1.5"],
      ["--shutdown-grace-ms", "soon"],
      ["--log-level", "loud"],
    ]
  ) {
    assert.throws(
      () => parseServerConfig(args, {}),
      UsageError,
      args.join(" "),
    );
  }
  assert.throws(
    () => parseServerConfig([], { LUMEN_BACKEND: "gpu" }),
    /LUMEN_BACKEND/,
  );
});

Deno.test("parseServerConfig: limits, production and shutdown flags", () => {
  const config = parseServerConfig([
    "--max-image-bytes=1000",
    "--max-base64-chars",
    "2000",
    "--max-pixels",
    "3000",
    "--max-request-bytes",
    "4000",
    "--max-query-tokens",
    "50",
    "--max-query-depth",
    "6",
    "--max-aliases",
    "0",
    "--max-directives",
    "7",
    "--max-methods",
    "2",
    "--request-timeout-ms",
    "500",
    "--concurrency",
    "2",
    "--max-queue",
    "0",
    "--max-request-passes",
    "100",
    "--body-timeout-ms",
    "700",
    "--url-timeout-ms",
    "100",
    "--url-max-redirects",
    "0",
    "--shutdown-grace-ms",
    "0",
    "--production",
    "--graphiql",
    "--log-level",
    "warn",
  ], {});
  assert.deepEqual(config.limits, {
    maxImageBytes: 1000,
    maxBase64Chars: 2000,
    maxPixels: 3000,
    maxRequestBytes: 4000,
    maxTokens: 50,
    maxDepth: 6,
    maxAliases: 0,
    maxDirectives: 7,
    maxMethods: 2,
    requestTimeoutMs: 500,
    bodyTimeoutMs: 700,
    concurrency: 2,
    maxQueued: 0,
    maxRequestPasses: 100,
    urlTimeoutMs: 100,
    urlMaxRedirects: 0,
  });
  assert.equal(config.shutdownGraceMs, 0);
  assert.equal(config.production, true);
  assert.equal(config.graphiql, true);
  assert.equal(config.introspection, null);
  assert.equal(config.logLevel, "warn");
});
