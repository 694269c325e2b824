import assert from "node:assert/strict";
import { join } from "node:path";
import { collectImages, outputStem } from "../../cli/explain_files.ts";

Deno.test("collectImages: files as given, folders one level deep, sorted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen-collect-" });
  try {
    await Deno.mkdir(join(dir, "photos/nested"), { recursive: true });
    await Deno.mkdir(join(dir, "empty"));
    for (const name of ["b.JPG", "a.png", "notes.txt", "nested/c.png"]) {
      await Deno.writeTextFile(join(dir, "photos", name), "x");
    }
    await Deno.writeTextFile(join(dir, "odd.bin"), "x");
    const { files, failures } = await collectImages([
      join(dir, "photos"),
      join(dir, "odd.bin"),
      join(dir, "photos", "a.png"),
      join(dir, "empty"),
      join(dir, "missing.png"),
    ]);
    assert.deepEqual(files, [
      join(dir, "photos", "a.png"),
      join(dir, "photos", "b.JPG"),
      join(dir, "odd.bin"),
    ]);
    assert.deepEqual(failures.map((f) => [f.path, f.message]), [
      [join(dir, "empty"), "No images in this folder (.png, .jpg, .jpeg)"],
      [join(dir, "missing.png"), "No such file or folder"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("outputStem: names without extension, unique, safe", () => {
  const used = new Set<string>();
  assert.equal(outputStem("/a/cat.png", used), "cat");
  assert.equal(outputStem("/b/cat.jpg", used), "cat-2");
  assert.equal(outputStem("/c/cat.png", used), "cat-3");
  assert.equal(outputStem("/d/my cat (1).png", used), "my-cat-1");
  assert.equal(outputStem("/e/.png", used), ".png"); // a dot file keeps its name
  assert.equal(outputStem("/f/(((.png", used), "image");
});
