import assert from "node:assert/strict";
import {
  parseModelSpec,
  parseModelSpecs,
  UsageError,
} from "../../config/mod.ts";
import { SHIPPED_MODEL } from "../../models/mod.ts";

Deno.test("--model specs: name, path and options", () => {
  assert.deepEqual(
    parseModelSpec(
      "mnet=models/m.onnx,labels=l.txt,preprocess=torch,layer=features.12",
    ),
    {
      name: "mnet",
      path: "models/m.onnx",
      labels: "l.txt",
      preprocess: "torch",
      layer: "features.12",
    },
  );
  // Without a name: the file stem, or a model.json's folder.
  assert.equal(parseModelSpec("zoo/resnet18.onnx").name, "resnet18");
  assert.equal(parseModelSpec("zoo/tiny/model.json").name, "tiny");
  assert.deepEqual(parseModelSpecs([]), [SHIPPED_MODEL]);
});

Deno.test("--model specs: what cannot be used is a usage error naming it", () => {
  const cases: [string[], RegExp][] = [
    [["m.pt"], /\.onnx file or a TF\.js model\.json/],
    [["=m.onnx"], /name ""/],
    [["m.onnx,preprocess=bgr"], /preprocess "bgr".*caffe, tf, torch, none/],
    [["m.onnx,colour=red"], /Unknown --model option "colour"/],
    [["m.onnx,labels"], /key=value/],
    [["a=m.onnx", "a=n.onnx"], /Duplicate --model name "a"/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseModelSpecs(args), UsageError, args.join(" "));
    assert.throws(() => parseModelSpecs(args), message);
  }
});
