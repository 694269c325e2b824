/**
 * `deno task explain` as a subprocess, with the task's own permissions
 * (read from deno.json): outputs, report, exit statuses.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../../lib/image.ts";
import { fixtureBytes } from "../_shared.ts";

const ROOT = new URL("../../", import.meta.url);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI exactly as `deno task explain` would, plus `args`. */
async function explain(args: string[]): Promise<Run> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const [deno, ...taskArgs] = config.tasks.explain.command.split(/\s+/);
  assert.equal(deno, "deno");
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...taskArgs, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "lumen-cli-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function pngSize(path: string): Promise<[number, number]> {
  const image = await decodeImage(await Deno.readFile(path));
  return [image.width, image.height];
}

Deno.test("cli: a folder of two images → two overlays, maps and a report", async () => {
  await withTemp(async (dir) => {
    const input = join(dir, "in");
    const out = join(dir, "out");
    await Deno.mkdir(input);
    for (const name of ["chelsea.png", "coffee.png"]) {
      await Deno.writeFile(join(input, name), await fixtureBytes(name));
    }
    const report = join(dir, "report.html");
    const run = await explain([
      input,
      "--method",
      "gradcam",
      "--out",
      out,
      "--report",
      report,
      "--npy",
      "--backend",
      "wasm",
      "--progress",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), [
      "chelsea_gradcam.json",
      "chelsea_gradcam.npy",
      "chelsea_gradcam.png",
      "coffee_gradcam.json",
      "coffee_gradcam.npy",
      "coffee_gradcam.png",
    ]);
    assert.deepEqual(await pngSize(join(out, "chelsea_gradcam.png")), [
      451,
      300,
    ]);
    assert.deepEqual(await pngSize(join(out, "coffee_gradcam.png")), [
      600,
      400,
    ]);
    const map = JSON.parse(
      await Deno.readTextFile(join(out, "chelsea_gradcam.json")),
    );
    assert.equal(map.method, "gradcam");
    assert.equal(map.label, "Egyptian_cat");
    assert.equal(map.values.length, map.width * map.height);
    assert.ok(map.values.every((v: number) => v >= 0 && v <= 1));
    // The top-5 of each image on stdout.
    // Labels read as in the report: "Egyptian cat", not "Egyptian_cat".
    assert.match(run.stdout, /1\. +\d+\.\d+% +Egyptian cat \(285\)/);
    assert.match(run.stdout, /2 images × 1 method →/);
    assert.match(run.stdout, /1\. +\d+\.\d+% +espresso \(967\)/);
    assert.equal(run.stdout.match(/^ +5\. /gm)?.length, 2);
    // The bar on stderr reaches the end.
    assert.match(run.stderr, /\[#+\] 100% 2\/2/);
    const html = await Deno.readTextFile(report);
    assert.equal(html.match(/<img src="data:image\/png;base64,/g)?.length, 4);
    assert.match(html, /alt="gradcam heatmap over chelsea.png/);
    assert.doesNotMatch(html, /src="(?!data:)/);
  });
});

Deno.test("cli: a bad file fails with 1, the good one is still written", async () => {
  await withTemp(async (dir) => {
    const good = join(dir, "chelsea.png");
    const bad = join(dir, "broken.png");
    await Deno.writeFile(good, await fixtureBytes("chelsea.png"));
    await Deno.writeTextFile(bad, "these are not pixels");
    const out = join(dir, "out");
    const run = await explain([
      bad,
      good,
      "--method",
      "activation",
      "--out",
      out,
      "--backend",
      "wasm",
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(await pngSize(join(out, "chelsea_activation.png")), [
      451,
      300,
    ]);
    assert.match(
      run.stderr,
      /1 failure:\n +.*broken\.png: Cannot decode image/,
    );
    assert.doesNotMatch(run.stderr, /chelsea/);
  });
});

Deno.test("cli: bad arguments exit with 2 and the usage", async () => {
  await withTemp(async (dir) => {
    for (
      const [args, message] of [
        [["x.png", "--method", "gradcam++x", "--out", dir], /Unknown method/],
        [["x.png", "--method", "gradcam"], /Missing --out/],
        [["--method", "gradcam", "--out", dir], /No input/],
        [[
          "x.png",
          "--method",
          "gradcam",
          "--out",
          dir,
          "--alpha",
          "1.5",
        ], /Invalid --alpha/],
      ] as [string[], RegExp][]
    ) {
      const run = await explain(args);
      assert.equal(run.code, 2, args.join(" "));
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Usage: deno task explain/);
    }
    const help = await explain(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: deno task explain/);
  });
});

Deno.test("cli: a layer the model lacks exits with 2", async () => {
  await withTemp(async (dir) => {
    const image = join(dir, "chelsea.png");
    await Deno.writeFile(image, await fixtureBytes("chelsea.png"));
    const run = await explain([
      image,
      "--method",
      "gradcam",
      "--out",
      dir,
      "--layer",
      "no_such_layer",
      "--backend",
      "wasm",
    ]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /no_such_layer/);
    assert.match(run.stderr, /Usage: deno task explain/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "chelsea.png",
    ]);
  });
});

Deno.test("cli: --list-methods and --list-layers answer without images, familiar layer names first", async () => {
  const methods = await explain(["--list-methods"]);
  assert.equal(methods.code, 0, methods.stderr);
  assert.match(methods.stdout, /^gradcam: /m);
  assert.match(methods.stdout, /^occlusion \(slow\): /m);
  const layers = await explain(["--list-layers", "--backend", "wasm"]);
  assert.equal(layers.code, 0, layers.stderr);
  const lines = layers.stdout.split("\n");
  // The torchvision and modern Keras names come before the raw ones.
  const layer4 = lines.findIndex((l) => /\blayer4\b/.test(l));
  const raw = lines.findIndex((l) => /^Without other names/.test(l));
  assert.ok(layer4 > 0 && (raw < 0 || layer4 < raw), layers.stdout);
  assert.match(lines[layer4], /activation_48.*\(default\)/);
  assert.match(layers.stdout, /conv4_block6_out/);
  // The WebGPU probe stays quiet about Mesa's runtime directory.
  assert.doesNotMatch(layers.stderr, /XDG_RUNTIME_DIR/);
});

Deno.test("cli: a model that cannot load exits with 3, saying why", async () => {
  await withTemp(async (dir) => {
    const image = join(dir, "chelsea.png");
    await Deno.writeFile(image, await fixtureBytes("chelsea.png"));
    const run = await explain([
      image,
      "--method",
      "gradcam",
      "--out",
      dir,
      "--model",
      join(dir, "missing/model.json"),
    ]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(
      run.stderr,
      /The model failed to load: .*missing\/model\.json/,
    );
  });
});
