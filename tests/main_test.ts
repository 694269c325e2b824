import assert from "node:assert/strict";
import { loadPlugins, parseConfig, UsageError } from "../main.ts";

Deno.test("parseConfig: defaults, flags and environment", () => {
  const defaults = parseConfig([], {});
  assert.equal(defaults.port, 8000);
  assert.equal(defaults.hostname, "0.0.0.0");
  assert.equal(defaults.backend, "auto");
  assert.deepEqual(defaults.allowUrlHosts, []);
  assert.equal(defaults.allowPrivateUrls, false);

  const env = parseConfig([], { PORT: "9001", LUMEN_BACKEND: "cpu" });
  assert.equal(env.port, 9001);
  assert.equal(env.backend, "cpu");

  const flags = parseConfig([
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
    "--preprocessing",
    "torch",
  ], { PORT: "9001", LUMEN_BACKEND: "cpu" });
  assert.equal(flags.port, 0);
  assert.equal(flags.backend, "wasm");
  assert.deepEqual(flags.allowUrlHosts, ["a.example", "b.example"]);
  assert.equal(flags.allowPrivateUrls, true);
  assert.deepEqual(flags.plugins, ["x.ts"]);
  assert.equal(flags.preprocessing, "torch");
});

Deno.test("parseConfig: bad flags are usage errors", () => {
  for (
    const args of [
      ["--nope"],
      ["--port", "http"],
      ["--port", "70000"],
      ["--backend", "tpu"],
      ["--preprocessing", "none"],
      ["--allow-url-host", "http://x/"],
      ["stray"],
    ]
  ) {
    assert.throws(() => parseConfig(args, {}), UsageError, args.join(" "));
  }
  assert.throws(
    () => parseConfig([], { LUMEN_BACKEND: "gpu" }),
    /LUMEN_BACKEND/,
  );
});

Deno.test("loadPlugins imports explainers from modules", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen_plugins_" });
  try {
    const good = `${dir}/flat.js`;
    await Deno.writeTextFile(
      good,
      `export default [{
        name: "flat", description: "All ones", needsGradients: false,
        parseParams: () => ({}),
        explain: ({ pass }) => ({ width: 1, height: 1, values: new Float32Array([1]) }),
      }];`,
    );
    const bad = `${dir}/bad.js`;
    await Deno.writeTextFile(bad, `export default { name: "bad" };`);
    const loaded = await loadPlugins([good]);
    assert.deepEqual(loaded.map((e) => e.name), ["flat"]);
    await assert.rejects(
      loadPlugins([bad]),
      /default export must be an Explainer/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
