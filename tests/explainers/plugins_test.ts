import assert from "node:assert/strict";
import { loadPlugins } from "../../explainers/plugins.ts";

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
