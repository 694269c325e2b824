import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import { sharedResNet50 } from "../_shared.ts";

const expected: Record<string, string> = {
  conv5_block3_out: "activation_48",
  conv5_block3_2_relu: "activation_47",
  conv5_block3_add: "add_15",
  conv5_block1_1_conv: "res5a_branch2a",
  conv5_block1_0_conv: "res5a_branch1",
  conv4_block6_out: "activation_39",
  conv4_block6_2_relu: "activation_38",
  conv3_block4_out: "activation_21",
  conv2_block1_1_bn: "bn2a_branch2a",
  conv1_conv: "conv1",
  conv1_relu: "activation",
  pool1_pool: "max_pooling2d",
  layer1: "activation_9",
  layer2: "activation_21",
  layer3: "activation_39",
  layer4: "activation_48",
  LAYER4: "activation_48",
};

Deno.test("modern Keras and torchvision aliases resolve to the shipped layers", async () => {
  const { catalog } = await sharedResNet50();
  for (const [alias, name] of Object.entries(expected)) {
    assert.equal(catalog.resolve(alias).name, name, alias);
  }
  assert.equal(catalog.resolve(undefined).name, "activation_48");
  assert.equal(catalog.resolve(null).name, "activation_48");
  // An empty name is a mistake, not the default layer in disguise.
  assert.throws(
    () => catalog.resolve(""),
    (e: ClientError) => e.code === "BAD_USER_INPUT",
  );
});

Deno.test("every stage has its blocks: 3, 4, 6, 3", async () => {
  const { catalog } = await sharedResNet50();
  const outs = catalog.layers.flatMap((l) => l.aliases)
    .filter((a) => /^conv\d_block\d+_out$/.test(a));
  const perStage = [2, 3, 4, 5].map((s) =>
    outs.filter((a) => a.startsWith(`conv${s}_`)).length
  );
  assert.deepEqual(perStage, [3, 4, 6, 3]);
});

Deno.test("an unknown layer error names the closest layers", async () => {
  const { catalog } = await sharedResNet50();
  assert.throws(() => catalog.resolve("activation_488"), (e: ClientError) => {
    assert.equal(e.code, "UNKNOWN_LAYER");
    assert.match(
      e.message,
      /Unknown layer "activation_488": closest layers are "activation_48"/,
    );
    return true;
  });
});

Deno.test("a layer without a 4-D output is refused with the reason", async () => {
  const { catalog } = await sharedResNet50();
  assert.throws(() => catalog.resolve("avg_pool"), (e: ClientError) => {
    assert.equal(e.code, "UNSUPPORTED_LAYER");
    assert.match(
      e.message,
      /output shape \[2048\]: explanations need a layer with a 4-D output/,
    );
    return true;
  });
});
