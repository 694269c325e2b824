import assert from "node:assert/strict";
import {
  chelseaBase64,
  graphqlRequest,
  parseMultipartMixed,
  sharedApp,
  withServer,
} from "./_helpers.ts";

interface Incremental {
  data?: Record<string, unknown>;
  hasNext?: boolean;
  incremental?: {
    data?: Record<string, unknown>;
    items?: Record<string, unknown>[];
    path: (string | number)[];
  }[];
}

async function multipart(
  base: string,
  query: string,
): Promise<{ contentType: string; parts: Incremental[] }> {
  const response = await fetch(
    graphqlRequest(query, { b: await chelseaBase64() }, {
      base,
      accept: "multipart/mixed",
    }),
  );
  const contentType = response.headers.get("content-type") ?? "";
  const parts = parseMultipartMixed(contentType, await response.text());
  return { contentType, parts: parts as Incremental[] };
}

Deno.test("@defer: predictions at once, overlay in a later part", async () => {
  await withServer(await sharedApp(), async (base) => {
    const { contentType, parts } = await multipart(
      base,
      `query($b: String!) {
        explain(image: { base64: $b }) {
          label
          predictions { label }
          ... @defer { overlay }
        }
      }`,
    );
    assert.match(contentType, /^multipart\/mixed/);
    assert.ok(parts.length >= 2, JSON.stringify(parts).slice(0, 300));
    const first = parts[0];
    const explain = first.data!.explain as Record<string, unknown>;
    assert.equal(first.hasNext, true);
    assert.equal(explain.label, "Egyptian_cat");
    assert.equal((explain.predictions as { label: string }[]).length, 5);
    assert.equal(explain.overlay, undefined);
    const later = parts.slice(1).flatMap((p) => p.incremental ?? []);
    const deferred = later.find((i) => i.data?.overlay !== undefined);
    assert.ok(deferred, JSON.stringify(parts).slice(0, 300));
    assert.deepEqual(deferred.path, ["explain"]);
    assert.ok(
      String(deferred.data!.overlay).startsWith("data:image/png;base64,"),
    );
    assert.equal(parts.at(-1)!.hasNext, false);
  });
});

Deno.test("@stream: explainMany sends a fast method's item before a slow method is done", async () => {
  await withServer(await sharedApp(), async (base) => {
    // Methods that finish within one slice of work (8 ms) may share a part;
    // Score-CAM (8 masked passes) takes far longer than activation.
    const { contentType, parts } = await multipart(
      base,
      `query($b: String!) {
        explainMany(
          image: { base64: $b }
          methods: ["activation", "scorecam"]
          options: { scorecam: { topChannels: 8 } }
        ) @stream(initialCount: 0) {
          method label map { width height }
        }
      }`,
    );
    assert.match(contentType, /^multipart\/mixed/);
    assert.deepEqual(parts[0].data, { explainMany: [] });
    const itemParts = parts.slice(1).filter((p) =>
      p.incremental?.some((i) => i.items)
    );
    assert.equal(itemParts.length, 2, JSON.stringify(parts));
    const items = itemParts.map((p) => p.incremental!.flatMap((i) => i.items!));
    assert.deepEqual(items.map((part) => part.map((i) => i.method)), [
      ["activation"],
      ["scorecam"],
    ]);
    for (const item of items.flat()) {
      assert.equal(item.label, "Egyptian_cat");
      assert.deepEqual(item.map, { width: 7, height: 7 });
    }
    assert.equal(parts.at(-1)!.hasNext, false);
  });
});
