import assert from "node:assert/strict";
import {
  applyMutation,
  parseTestSummary,
  PatternError,
  verdictOf,
} from "../../tools/mutations/apply.ts";
import { MUTATIONS } from "../../tools/mutations/catalog.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("every mutation's pattern occurs exactly once in the source, and its tests exist", async () => {
  assert.ok(MUTATIONS.length >= 4);
  const names = new Set<string>();
  for (const mutation of MUTATIONS) {
    assert.ok(!names.has(mutation.name), `duplicate ${mutation.name}`);
    names.add(mutation.name);
    assert.notEqual(mutation.from, mutation.to, mutation.name);
    const text = await Deno.readTextFile(new URL(mutation.file, ROOT));
    const mutated = applyMutation(text, mutation);
    assert.notEqual(mutated, text, mutation.name);
    assert.ok(mutation.tests.length > 0, mutation.name);
    for (const test of mutation.tests) {
      const info = await Deno.stat(new URL(test, ROOT));
      assert.ok(info.isFile, `${mutation.name}: ${test}`);
    }
  }
});

Deno.test("applyMutation refuses a pattern that is missing or repeated", () => {
  const m = { name: "m", file: "f.ts", from: "a + b", to: "a - b" };
  assert.equal(applyMutation("x = a + b;", m), "x = a - b;");
  assert.throws(
    () => applyMutation("x = a * b;", m),
    (e: unknown) =>
      e instanceof PatternError && /is not in f\.ts/.test(e.message),
  );
  assert.throws(
    () => applyMutation("a + b; a + b;", m),
    (e: unknown) =>
      e instanceof PatternError && /more than once/.test(e.message),
  );
});

Deno.test("a run's verdict comes from deno test's summary and failures", () => {
  const failed = [
    "running 2 tests from ./tests/x_test.ts",
    "one ... \x1b[32mok\x1b[0m (1ms)",
    "two ... \x1b[31mFAILED\x1b[0m (2ms)",
    "",
    " ERRORS ",
    "",
    "two => ./tests/x_test.ts:3:6",
    "error: AssertionError",
    "",
    " FAILURES ",
    "",
    "two => ./tests/x_test.ts:3:6",
    "",
    "\x1b[31mFAILED\x1b[0m | 1 passed | 1 failed (40ms)",
  ].join("\n");
  const summary = parseTestSummary(failed);
  assert.deepEqual(summary, { passed: 1, failed: 1, failures: ["two"] });
  assert.equal(verdictOf(summary), "caught");
  assert.equal(
    verdictOf(parseTestSummary("ok | 3 passed | 0 failed (1s)")),
    "SURVIVED",
  );
  assert.equal(
    verdictOf(parseTestSummary("ok | 3 passed (2 steps) | 0 failed (1s)")),
    "SURVIVED",
  );
  // A module that does not load: no test ran, so no verdict on the mutation.
  const broken = [
    "Uncaught error from ./tests/x_test.ts FAILED",
    " FAILURES ",
    "./tests/x_test.ts (uncaught error)",
    "FAILED | 0 passed | 1 failed (13ms)",
  ].join("\n");
  assert.equal(verdictOf(parseTestSummary(broken)), "ERROR");
  assert.equal(verdictOf(parseTestSummary("error: Module not found")), "ERROR");
});
