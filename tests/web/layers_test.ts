import assert from "node:assert/strict";
import {
  describeLayer,
  familiarName,
  type LayerEntry,
  layerGroups,
  layerName,
  shortLayerName,
} from "../../web/client/layers.ts";

function layer(
  name: string,
  aliases: string[],
  explainable = true,
): LayerEntry {
  return { name, aliases, shape: [7, 7, 8], kind: "Conv2D", explainable };
}

/** The start and end of ResNet-50's layer list, as the API lists it. */
const RESNET = [
  layer("input_1", [], false),
  layer("conv1_pad", []),
  layer("conv1", ["conv1_conv"]),
  layer("max_pooling2d", ["pool1_pool"]),
  layer("res2a_branch2a", ["conv2_block1_1_conv"]),
  layer("activation_9", ["conv2_block3_out", "layer1"]),
  layer("activation_39", ["conv4_block6_out", "layer3"]),
  layer("activation_48", ["conv5_block3_out", "layer4"]),
  layer("avg_pool", [], false),
];

Deno.test("layerGroups: stage outputs first, then each stage, then the rest", () => {
  const groups = layerGroups(RESNET);
  assert.deepEqual(groups.map((g) => g.label), [
    "Stage outputs",
    "Stem: conv1, pool1",
    "Stage conv2 (layer1): every block",
    "Stage conv4 (layer3): every block",
    "Stage conv5 (layer4): every block",
    "Other layers",
  ]);
  assert.deepEqual(groups[0].options, [
    { value: "activation_9", text: "layer1 · conv2_block3_out" },
    { value: "activation_39", text: "layer3 · conv4_block6_out" },
    { value: "activation_48", text: "layer4 · conv5_block3_out" },
  ]);
  assert.deepEqual(groups[1].options, [
    { value: "conv1", text: "conv1_conv (conv1)" },
    { value: "max_pooling2d", text: "pool1_pool (max_pooling2d)" },
  ]);
  assert.deepEqual(groups[3].options, [
    { value: "activation_39", text: "conv4_block6_out (activation_39)" },
  ]);
  assert.deepEqual(groups[5].options, [{
    value: "conv1_pad",
    text: "conv1_pad",
  }]);
  // Every explainable layer is reachable by its own name.
  const values = new Set(groups.flatMap((g) => g.options.map((o) => o.value)));
  assert.deepEqual(
    [...values].sort(),
    RESNET.filter((l) => l.explainable).map((l) => l.name).sort(),
  );
});

Deno.test("layerGroups: a model without aliases gets one list of its names", () => {
  assert.deepEqual(
    layerGroups([layer("a", []), layer("b", [], false), layer("c", [])], "c"),
    [{
      label: "Layers (the recommended one first)",
      options: [{ value: "c", text: "c" }, { value: "a", text: "a" }],
    }],
  );
  assert.deepEqual(layerGroups([layer("b", [], false)], "b"), []);
});

/** Part of resnet18.onnx's list (tests/fixtures/onnx/), as the API lists it. */
const ONNX = [
  layer("input", [], false),
  layer("/conv1/Conv_output_0", ["conv1"]),
  layer("/maxpool/MaxPool_output_0", ["maxpool"]),
  layer("/layer1/layer1.0/conv1/Conv_output_0", ["layer1.0.conv1"]),
  layer("/layer1/layer1.0/Add_output_0", []),
  layer("/layer1/layer1.1/relu_1/Relu_output_0", [
    "layer1",
    "layer1.1",
    "layer1.1.relu_1",
  ]),
  layer("/layer2/layer2.0/downsample/downsample.0/Conv_output_0", [
    "layer2.0.downsample",
    "layer2.0.downsample.0",
  ]),
  layer("/layer4/layer4.1/relu_1/Relu_output_0", [
    "layer4",
    "layer4.1",
    "layer4.1.relu_1",
  ]),
  layer("/Flatten_output_0", [], false),
];

Deno.test("layerGroups: an ONNX model gets one list, the default first, under its aliases", () => {
  const groups = layerGroups(ONNX, "/layer4/layer4.1/relu_1/Relu_output_0");
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0].options.map((o) => o.text), [
    "layer4",
    "conv1",
    "maxpool",
    "layer1.0.conv1",
    "layer1.0 Add",
    "layer1",
    "layer2.0.downsample",
  ]);
  assert.equal(
    groups[0].options[0].value,
    "/layer4/layer4.1/relu_1/Relu_output_0",
  );
  // Every explainable layer once; the values are the layers' own names.
  assert.deepEqual(
    groups[0].options.map((o) => o.value).sort(),
    ONNX.filter((l) => l.explainable).map((l) => l.name).sort(),
  );
});

Deno.test("shortLayerName: the innermost module and the op of exported names", () => {
  assert.equal(shortLayerName("/layer1/layer1.0/Add_output_0"), "layer1.0 Add");
  assert.equal(shortLayerName("/Flatten_output_0"), "Flatten");
  assert.equal(
    shortLayerName("/features/features.denseblock1/Concat_output_0"),
    "features.denseblock1 Concat",
  );
  assert.equal(shortLayerName("b_add"), "b_add");
  assert.equal(layerName(ONNX[7]), "layer4");
  assert.equal(layerName(ONNX[4]), "layer1.0 Add");
  assert.equal(layerName(RESNET[7]), "activation_48");
  assert.equal(shortLayerName("logits"), "logits");
});

Deno.test("familiarName and describeLayer", () => {
  assert.equal(familiarName(RESNET[6]), "layer3");
  assert.equal(familiarName(RESNET[2]), "conv1_conv");
  assert.equal(familiarName(RESNET[1]), "conv1_pad");
  assert.equal(
    describeLayer(RESNET[7], "activation_48"),
    "activation_48 · Conv2D · 7×7×8 · also conv5_block3_out, layer4 · " +
      "recommended: the last stage, where maps show whole objects",
  );
});
