import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import {
  createModelSet,
  type ModelEntry,
  type ModelRuntime,
} from "../../models/mod.ts";

/**
 * Entries whose "runtimes" only carry what a model set reads (their weight
 * bytes and dispose): the set is what is under test, not the models.
 */
function entries(bytes: Record<string, number>) {
  const loads: string[] = [];
  const disposed: string[] = [];
  const list: ModelEntry[] = Object.entries(bytes).map((
    [name, weightBytes],
  ) => ({
    name,
    load: () => {
      loads.push(name);
      return Promise.resolve({
        name,
        weightBytes,
        dispose: () => disposed.push(name),
      } as unknown as ModelRuntime);
    },
  }));
  return { list, loads, disposed };
}

Deno.test("models load on first use, once; the default is the first", async () => {
  const { list, loads } = entries({ a: 10, b: 10 });
  const models = createModelSet(list);
  assert.equal(models.defaultName, "a");
  assert.deepEqual(models.loaded(), []);
  await models.use(null, (r) => Promise.resolve(assert.equal(r.name, "a")));
  await models.use("a", () => Promise.resolve());
  assert.deepEqual(loads, ["a"]);
  assert.throws(
    () => models.entry("c"),
    (e: ClientError) =>
      e.code === "UNKNOWN_MODEL" && /"a", "b"/.test(e.message),
  );
});

Deno.test("past the byte budget the least recently used idle model is released", async () => {
  const { list, loads, disposed } = entries({ a: 60, b: 60, c: 60 });
  const models = createModelSet(list, { maxBytes: 130 });
  await models.use("a", () => Promise.resolve());
  await models.use("b", () => Promise.resolve());
  assert.deepEqual(models.loaded(), ["a", "b"]);
  // a is used again: b is now the least recently used.
  await models.use("a", () => Promise.resolve());
  await models.use("c", () => Promise.resolve());
  await Promise.resolve();
  assert.deepEqual(disposed, ["b"]);
  assert.deepEqual(models.loaded(), ["a", "c"]);
  // b comes back when asked for, and the LRU one (a) goes.
  await models.use("b", () => Promise.resolve());
  await Promise.resolve();
  assert.deepEqual(loads, ["a", "b", "c", "b"]);
  assert.deepEqual(disposed, ["b", "a"]);
});

Deno.test("a model in use is never released, even over the budget", async () => {
  const { list, disposed } = entries({ a: 100, b: 100 });
  const models = createModelSet(list, { maxBytes: 150 });
  const held = Promise.withResolvers<void>();
  const using = models.use("a", () => held.promise);
  await models.use("b", () => Promise.resolve());
  await Promise.resolve();
  // a is busy, b was just used: over the budget, nothing can go yet.
  assert.deepEqual(disposed, []);
  held.resolve();
  await using;
  await Promise.resolve();
  // a was used until now: b is the least recently used.
  assert.deepEqual(disposed, ["b"]);
});

Deno.test("a failed load is forgotten: the next use tries again", async () => {
  let attempts = 0;
  const models = createModelSet([{
    name: "flaky",
    load: () =>
      ++attempts === 1
        ? Promise.reject(new Error("disk hiccup"))
        : Promise.resolve(
          { weightBytes: 1, dispose() {} } as unknown as ModelRuntime,
        ),
  }]);
  await assert.rejects(
    models.use(null, () => Promise.resolve()),
    /disk hiccup/,
  );
  await Promise.resolve();
  await models.use(null, () => Promise.resolve());
  assert.equal(attempts, 2);
});
