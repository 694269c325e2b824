import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ModelLoadError } from "../../models/mod.ts";
import { fileHandler } from "../../models/tfjs/io.ts";
import { selectBackend } from "../../models/tfjs/backend.ts";
import { tinyResNet } from "../_shared.ts";

/** Writes the tiny network as model.json + 2 shards into a fresh folder. */
async function writeTinyModel(): Promise<string> {
  await selectBackend("cpu");
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "lumen-io-" });
  const model = tinyResNet();
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
    const half = Math.ceil(data.length / 8) * 4;
    await Deno.writeFile(`${dir}/shard1.bin`, data.slice(0, half));
    await Deno.writeFile(`${dir}/shard2.bin`, data.slice(half));
    await Deno.writeTextFile(
      `${dir}/model.json`,
      JSON.stringify({
        format: "layers-model",
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{
          paths: ["shard1.bin", "shard2.bin"],
          weights: artifacts.weightSpecs,
        }],
      }),
    );
    return {
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    };
  }));
  model.dispose();
  return dir;
}

Deno.test("a model written to disk loads back through the file handler", async () => {
  const dir = await writeTinyModel();
  try {
    const model = await tfl.loadLayersModel(fileHandler(`${dir}/model.json`));
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("broken model.json, missing and wrong-size shards name the file", async () => {
  const dir = await writeTinyModel();
  const load = () => tfl.loadLayersModel(fileHandler(`${dir}/model.json`));
  try {
    await Deno.writeFile(`${dir}/shard2.bin`, new Uint8Array(12), {
      append: true,
    });
    await assert.rejects(load, (e: Error) => {
      assert.ok(e instanceof ModelLoadError);
      assert.match(e.message, /shard .*shard2\.bin has the wrong size/);
      return true;
    });
    await Deno.remove(`${dir}/shard2.bin`);
    await assert.rejects(load, /file not found: .*shard2\.bin/);
    const json = await Deno.readTextFile(`${dir}/model.json`);
    await Deno.writeTextFile(`${dir}/model.json`, json.slice(0, 100));
    await assert.rejects(load, /model\.json is not valid JSON/);
    await Deno.writeTextFile(`${dir}/model.json`, "{}");
    await assert.rejects(load, /model\.json has no "modelTopology"/);
    await assert.rejects(
      () => tfl.loadLayersModel(fileHandler(`${dir}/nope.json`)),
      /file not found: .*nope\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
