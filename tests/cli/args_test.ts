import assert from "node:assert/strict";
import { parseCliArgs, usage, UsageError } from "../../cli/args.ts";

const KNOWN = ["activation", "gradcam", "scorecam"];

Deno.test("parseCliArgs: inputs, methods (comma-separated, repeatable), defaults", () => {
  const options = parseCliArgs([
    "a.png",
    "photos",
    "--method",
    "gradcam,scorecam",
    "--method",
    "gradcam",
    "--out",
    "out",
  ], KNOWN);
  assert.deepEqual(options.inputs, ["a.png", "photos"]);
  assert.deepEqual(options.methods, ["gradcam", "scorecam"]);
  assert.equal(options.out, "out");
  assert.equal(options.colormap, "jet");
  assert.equal(options.alpha, 0.3);
  assert.equal(options.layer, null);
  assert.equal(options.classChoice, null);
  assert.equal(options.report, null);
  assert.equal(options.npy, false);
  assert.equal(options.backend, "auto");
  assert.equal(options.progress, null);
});

Deno.test("parseCliArgs: every flag", () => {
  const options = parseCliArgs([
    "--",
    "a.png",
    "--method=activation",
    "--out=o",
    "--layer",
    "layer3",
    "--class",
    "tabby",
    "--colormap",
    "viridis",
    "--alpha",
    "0.5",
    "--report",
    "r.html",
    "--npy",
    "--backend",
    "wasm",
    "--no-progress",
  ], KNOWN);
  assert.equal(options.layer, "layer3");
  assert.deepEqual(options.classChoice, { label: "tabby" });
  assert.equal(options.colormap, "viridis");
  assert.equal(options.alpha, 0.5);
  assert.equal(options.report, "r.html");
  assert.equal(options.npy, true);
  assert.equal(options.backend, "wasm");
  assert.equal(options.progress, false);
  assert.deepEqual(
    parseCliArgs(
      ["a", "--method", "gradcam", "--out", "o", "--class", "281"],
      KNOWN,
    )
      .classChoice,
    { index: 281 },
  );
});

Deno.test("parseCliArgs: bad arguments are usage errors that say what is wrong", () => {
  const cases: [string[], RegExp][] = [
    [["--method", "gradcam", "--out", "o"], /No input/],
    [["a.png", "--out", "o"], /Missing --method/],
    [["a.png", "--method", "gradcam"], /Missing --out/],
    [
      ["a.png", "--method", "gradcam++", "--out", "o"],
      /Unknown method "gradcam\+\+": valid methods are "activation", "gradcam", "scorecam"/,
    ],
    [
      ["a.png", "--method", "gradcam", "--out", "o", "--colormap", "nope"],
      /Invalid --colormap "nope": use jet, viridis/,
    ],
    [
      ["a.png", "--method", "gradcam", "--out", "o", "--alpha", "2"],
      /Invalid --alpha "2"/,
    ],
    [
      ["a.png", "--method", "gradcam", "--out", "o", "--alpha", ""],
      /Invalid --alpha/,
    ],
    [
      ["a.png", "--method", "gradcam", "--out", "o", "--backend", "tpu"],
      /Invalid --backend "tpu"/,
    ],
    [
      ["a.png", "--method", "gradcam", "--out", "o", "--class", " "],
      /Invalid --class/,
    ],
    [
      ["a.png", "--method", "gradcam", "--out", "o", "--frobnicate"],
      /frobnicate/,
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseCliArgs(args, KNOWN), (error: Error) => {
      assert.ok(error instanceof UsageError, args.join(" "));
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("parseCliArgs: --help needs nothing else", () => {
  assert.equal(parseCliArgs(["--help"], KNOWN).help, true);
  assert.equal(parseCliArgs(["-h"], KNOWN).help, true);
});

Deno.test("usage: lists the methods and the exit statuses", () => {
  const text = usage(KNOWN);
  assert.match(text, /activation, gradcam, scorecam/);
  assert.match(text, /Exit status: 0 .* 1 .*\n.* 2 bad arguments/);
});
