/**
 * Every GraphQL and curl example of README.md and docs/METHODS.md (blocks
 * tagged `example`) runs here, on chelsea.png, so the docs cannot drift from
 * the API. tests/docs_test.ts checks that every other block has its runner.
 */
import assert from "node:assert/strict";
import {
  chelseaBase64,
  graphqlRequest,
  parseMultipartMixed,
  parseSse,
  sharedApp,
  withServer,
} from "./schema/_helpers.ts";

const root = new URL("../", import.meta.url);
const docs = await Promise.all(
  ["README.md", "docs/METHODS.md"].map((path) =>
    Deno.readTextFile(new URL(path, root))
  ),
);
const blocks = (language: string) =>
  docs.flatMap((doc) =>
    [...doc.matchAll(
      new RegExp("```" + language + " example\\n([\\s\\S]*?)```", "g"),
    )].map((m) => m[1])
  );

const graphqlExamples = blocks("graphql");
const shellExamples = blocks("sh");

function assertNoErrors(payloads: Record<string, unknown>[]) {
  for (const payload of payloads) {
    assert.equal(payload.errors, undefined, JSON.stringify(payload.errors));
    for (
      const part of (payload.incremental ?? []) as Record<string, unknown>[]
    ) {
      assert.equal(part.errors, undefined, JSON.stringify(part.errors));
    }
  }
}

Deno.test("README.md and docs/METHODS.md have GraphQL and curl examples", () => {
  assert.ok(
    graphqlExamples.length >= 11,
    `${graphqlExamples.length} GraphQL examples`,
  );
  assert.ok(shellExamples.length >= 3, `${shellExamples.length} curl examples`);
});

for (const query of graphqlExamples) {
  const name = /(?:query|subscription) (\w+)/.exec(query)?.[1] ?? "anonymous";
  const subscription = /^\s*subscription/.test(query);
  Deno.test(`README GraphQL example "${name}" runs without errors`, async () => {
    const app = await sharedApp();
    const variables = query.includes("$b") ? { b: await chelseaBase64() } : {};
    const response = await app.fetch(
      graphqlRequest(query, variables, {
        accept: subscription
          ? "text/event-stream"
          : "multipart/mixed, application/graphql-response+json, application/json",
      }),
    );
    const type = response.headers.get("content-type") ?? "";
    const text = await response.text();
    const payloads = type.startsWith("multipart/mixed")
      ? parseMultipartMixed(type, text)
      : type.startsWith("text/event-stream")
      ? parseSse(text).filter((e) => e.event === "next").map((e) =>
        JSON.parse(e.data)
      )
      : [JSON.parse(text)];
    if (subscription) {
      const fractions = payloads.map((p) =>
        (p.data as { explainProgress: { fraction: number } }).explainProgress
          .fraction
      );
      assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b));
      assert.equal(fractions.at(-1), 1);
    }
    assertNoErrors(payloads);
    assert.ok(payloads[0].data, text.slice(0, 300));
    assert.equal(response.status, 200);
  });
}

for (const script of shellExamples) {
  const first = script.split("\n").find((l) => l.startsWith("curl")) ?? script;
  Deno.test(`README curl example runs: ${first.slice(0, 60)}…`, async () => {
    const app = await sharedApp();
    await withServer(app, async (base) => {
      const { code, stdout, stderr } = await new Deno.Command("bash", {
        args: [
          "-euo",
          "pipefail",
          "-c",
          script.replaceAll("localhost:8000", base.slice(7)),
        ],
        cwd: root.pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(stdout);
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      if (script.includes("text/event-stream")) {
        const events = parseSse(out).filter((e) => e.event === "next")
          .map((e) => JSON.parse(e.data));
        assertNoErrors(events);
        const fractions = events.map((e) => e.data.explainProgress.fraction);
        assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b));
        assert.equal(fractions.at(-1), 1);
        assert.ok(events.at(-1).data.explainProgress.explanation.overlay);
        return;
      }
      const body = JSON.parse(out);
      assertNoErrors([body]);
      assert.ok(body.data, out.slice(0, 300));
    });
  });
}
