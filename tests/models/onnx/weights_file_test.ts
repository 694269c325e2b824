/**
 * Weights kept in a file for ONNX Runtime: one file per content, put back
 * when deleted, stale temporaries swept, a folder that cannot be written
 * leaves the weights in memory, and an engine on a file computes what the
 * engine in memory computes, at every layer.
 */
import assert from "node:assert/strict";
import {
  loadOnnxEngine,
  readOnnxClassifier,
} from "../../../models/onnx/load.ts";
import { loadOrt } from "../../../models/onnx/session.ts";
import {
  inWeightsFolder,
  writeWeightsFile,
} from "../../../models/onnx/weights_file.ts";
import { fixturePath, maxRelative, random } from "./_onnx_fixtures.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

async function withFolder(fn: (folder: string) => Promise<void>) {
  const folder = await Deno.makeTempDir({ prefix: "lumen-weights-test-" });
  try {
    await fn(folder);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

test("tensors are aligned, read back exactly, and the name follows the bytes", () =>
  withFolder(async (folder) => {
    const a = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const b = Uint8Array.from({ length: 77 }, (_, i) => 255 - i);
    const one = writeWeightsFile(folder, [a, b]);
    assert.deepEqual(one.refs.map((r) => [r.offset % 64, r.length]), [
      [0, 1000],
      [0, 77],
    ]);
    assert.deepEqual(one.file.read(one.refs[0]!), a);
    assert.deepEqual(one.file.read(one.refs[1]!), b);
    assert.equal(
      (await Deno.stat(`${folder}/${one.file.name}`)).mode! & 0o777,
      0o600,
    );
    const other = writeWeightsFile(folder, [b, a]);
    assert.notEqual(other.file.name, one.file.name);
    assert.throws(
      () => one.file.read(other.refs[0]!),
      /is not/,
    );
    one.file.close();
    other.file.close();
    assert.equal([...Deno.readDirSync(folder)].length, 2);
  }));

test("a weights file deleted while in use is put back from the open handle", () =>
  withFolder(async (folder) => {
    const bytes = Uint8Array.from({ length: 20_000 }, random(3)).map((v) =>
      v * 255
    );
    const { file, refs } = writeWeightsFile(folder, [bytes]);
    const path = `${folder}/${file.name}`;
    await Deno.remove(folder, { recursive: true }); // the folder too
    file.ensure();
    assert.deepEqual(
      (await Deno.readFile(path)).subarray(refs[0]!.offset),
      bytes,
    );
    // Replaced by other bytes of another size: put back as well.
    await Deno.writeFile(path, new Uint8Array(10));
    file.ensure();
    assert.deepEqual(
      (await Deno.readFile(path)).subarray(refs[0]!.offset),
      bytes,
    );
    file.close();
  }));

test("temporaries of killed writers go after an hour, weights files unused for a month after it; the rest stays", () =>
  withFolder(async (folder) => {
    const old = "0123456789abcdef0123456789abcdef.weights";
    const recent = "fedcba9876543210fedcba9876543210.weights";
    for (const name of ["old.tmp", "fresh.tmp", old, recent, "notes.txt"]) {
      await Deno.writeFile(`${folder}/${name}`, new Uint8Array(8));
    }
    const ago = (ms: number) => new Date(Date.now() - ms);
    const day = 24 * 3600_000;
    await Deno.utime(`${folder}/old.tmp`, ago(2 * 3600_000), ago(2 * 3600_000));
    await Deno.utime(`${folder}/${old}`, ago(31 * day), ago(31 * day));
    await Deno.utime(`${folder}/${recent}`, ago(29 * day), ago(29 * day));
    await Deno.utime(`${folder}/notes.txt`, ago(400 * day), ago(400 * day));
    const { file } = writeWeightsFile(folder, [new Uint8Array(4)]);
    file.close();
    const names = [...Deno.readDirSync(folder)].map((e) => e.name).sort();
    assert.deepEqual(
      names,
      [file.name, "fresh.tmp", recent, "notes.txt"].sort(),
    );
  }));

test("a folder that cannot be written keeps the weights in memory and says why", async () => {
  const said: string[] = [];
  const source = await readOnnxClassifier(
    await loadOrt(),
    fixturePath("resnet18.onnx"),
    {
      threads: 1,
      weightsFolder: "/proc/lumen-cannot-write-here",
      log: (m) => said.push(m),
    },
  );
  assert.equal(source.weightsFile, null);
  assert.equal(said.length, 1);
  assert.match(
    said[0]!,
    /^Weights stay in memory: cannot write to \/proc\/lumen-cannot-write-here: /,
  );
  assert.equal(inWeightsFolder(null, () => 1), null); // no folder: nothing tried
});

test("an ONNX classifier on a weights file gives the in-memory engine's logits and gradients at every layer", () =>
  withFolder(async (folder) => {
    const said: string[] = [];
    const onFile = await loadOnnxEngine(fixturePath("resnet18.onnx"), {
      threads: 1,
      weightsFolder: folder,
      log: (m) => said.push(m),
    });
    const inMemory = await loadOnnxEngine(fixturePath("resnet18.onnx"), {
      threads: 1,
    });
    try {
      assert.deepEqual(said, []);
      const files = [...Deno.readDirSync(folder)];
      assert.equal(files.length, 1);
      assert.match(files[0]!.name, /^[0-9a-f]{32}\.weights$/);
      // The file holds the weights, not a copy of the whole model file.
      const size = (await Deno.stat(`${folder}/${files[0]!.name}`)).size;
      assert.ok(
        size > 0.9 * onFile.weightBytes && size < 1.05 * onFile.weightBytes,
        `${size}`,
      );
      assert.equal(onFile.weightBytes, inMemory.weightBytes);
      const x = Float32Array.from({ length: 64 * 64 * 3 }, random(5));
      const layers = [
        null,
        ...onFile.layers.filter((l) => l.spatial).map((l) => l.name),
      ];
      for (const layer of layers) {
        const [a, b] = await Promise.all([onFile, inMemory].map(async (e) => {
          const state = await e.lower([x], layer);
          try {
            return await e.upper(state, { gradients: layer !== null });
          } finally {
            state.dispose();
          }
        }));
        assert.ok(maxRelative(a!.logits[0]!, b!.logits[0]!) < 1e-5, `${layer}`);
        if (layer !== null) {
          assert.ok(
            maxRelative(a!.gradients![0]!.data, b!.gradients![0]!.data) < 1e-4,
            `${layer}`,
          );
        }
      }
    } finally {
      onFile.dispose();
      inMemory.dispose();
    }
  }));
