import assert from "node:assert/strict";
import { findFiles, multipartBody } from "../../web/client/upload_link.ts";

Deno.test("findFiles: files anywhere in the variables, with their paths", () => {
  const a = new File(["a"], "a.png");
  const b = new Blob(["b"]);
  const files = findFiles({
    image: { file: a },
    list: [b, { again: a }],
    text: "not a file",
    n: 3,
  }, "variables");
  assert.deepEqual([...files.entries()], [
    [a, ["variables.image.file", "variables.list.1.again"]],
    [b, ["variables.list.0"]],
  ]);
  assert.equal(findFiles({ x: 1 }, "variables").size, 0);
});

Deno.test("multipartBody: operations with nulls, the map, then the files", async () => {
  const file = new File(["png bytes"], "cat.png", { type: "image/png" });
  const operations = JSON.stringify({
    query: "query($image: ImageInput!) { predict(image: $image) { label } }",
    variables: { image: { file: {} }, top: 5 },
  });
  const form = multipartBody(
    operations,
    new Map([[file, ["variables.image.file"]]]),
  );
  assert.deepEqual([...form.keys()], ["operations", "map", "1"]);
  assert.deepEqual(JSON.parse(form.get("operations") as string).variables, {
    image: { file: null },
    top: 5,
  });
  assert.deepEqual(JSON.parse(form.get("map") as string), {
    "1": ["variables.image.file"],
  });
  const sent = form.get("1") as File;
  assert.equal(sent.name, "cat.png");
  assert.equal(await sent.text(), "png bytes");
});
