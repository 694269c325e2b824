import assert from "node:assert/strict";
import {
  pngsOnce,
  relay,
  RELAYED,
  type RelayedParts,
  reviveOutcome,
  withoutRelayed,
} from "../../workers/_relay.ts";
import { toErrorData } from "../../workers/protocol.ts";
import type { MethodRendering } from "../../explain/mod.ts";
import { clientError } from "../../lib/errors.ts";

const overlay = new Uint8Array(300_000).fill(7);
const outcome = {
  analysis: { model: "m" },
  methods: [
    {
      method: "gradcam",
      map: { method: "gradcam", heatmap: { values: new Float32Array([1]) } },
      rendering: { method: "gradcam", overlay },
    },
    { method: "saliency", map: { method: "saliency" } },
    {
      method: "broken",
      error: toErrorData(clientError("BAD_USER_INPUT", "no")),
    },
  ],
};

Deno.test("a result leaves out what its events carried, and the server puts it back", () => {
  const parts: RelayedParts = new Map();
  const events: string[] = [];
  const hooks = {
    onMap: (m: { method: string }) => events.push(`map ${m.method}`),
    onRendering: (r: { method: string }) => events.push(`png ${r.method}`),
  };
  const send = (event: string, data: unknown) =>
    relay(hooks, { type: "event", id: 1, event, data }, parts);
  send("map", outcome.methods[0].map);
  send("rendering", outcome.methods[0].rendering);
  send("map", outcome.methods[1].map);
  const sent = new Map([
    ["gradcam", new Set(["map", "rendering"])],
    ["saliency", new Set(["map"])],
  ]);
  const slim = withoutRelayed(outcome, sent) as typeof outcome;
  assert.equal(slim.methods[0].map, RELAYED);
  assert.equal(slim.methods[0].rendering, RELAYED);
  assert.ok(!JSON.stringify(slim).includes('"0":7'), "no PNG bytes twice");
  const back = reviveOutcome(slim, parts) as {
    methods: {
      method: string;
      map?: unknown;
      rendering?: unknown;
      error?: Error;
    }[];
  };
  assert.equal(back.methods[0].map, outcome.methods[0].map);
  assert.equal(
    (back.methods[0].rendering as { overlay: Uint8Array }).overlay,
    overlay,
  );
  assert.equal(back.methods[1].map, outcome.methods[1].map);
  assert.equal(back.methods[1].rendering, undefined);
  assert.equal(back.methods[2].error?.message, "no");
  assert.deepEqual(events, ["map gradcam", "png gradcam", "map saliency"]);
});

Deno.test("a relayed part that never came fails the call instead of answering without it", () => {
  const slim = withoutRelayed(
    outcome,
    new Map([["gradcam", new Set(["map"])]]),
  );
  assert.throws(
    () => reviveOutcome(slim, new Map()),
    /map of gradcam never came/,
  );
});

Deno.test("PNGs an earlier method of the call sent go by its name, and the server hands out the same bytes", () => {
  const once = pngsOnce();
  const heatmap = new Uint8Array(1000).fill(3);
  const wire = [
    { method: "gradcam", overlay, heatmap, renderMs: 2 },
    { method: "gradcam++", overlay: overlay.slice(), heatmap, renderMs: 2 },
    { method: "hirescam", overlay, heatmap, renderMs: 0.1 },
  ].map(once);
  assert.equal((wire[0] as { overlay?: unknown }).overlay, overlay);
  assert.ok("overlay" in wire[1], "equal bytes in another buffer are sent");
  assert.deepEqual(wire[2], {
    method: "hirescam",
    renderMs: 0.1,
    sameAs: "gradcam",
  });
  assert.ok(JSON.stringify(wire[2]).length < 100, "no bytes in it");
  const parts: RelayedParts = new Map();
  const seen: MethodRendering[] = [];
  for (const data of wire) {
    relay(
      { onRendering: (r) => seen.push(r) },
      { type: "event", id: 1, event: "rendering", data },
      parts,
    );
  }
  assert.deepEqual(seen.map((r) => r.method), [
    "gradcam",
    "gradcam++",
    "hirescam",
  ]);
  assert.equal(seen[2].overlay, overlay);
  assert.equal(seen[2].renderMs, 0.1, "its own timing");
  const slim = withoutRelayed(
    { methods: [{ method: "hirescam", rendering: { method: "hirescam" } }] },
    new Map([["hirescam", new Set(["rendering"])]]),
  );
  const back = reviveOutcome(slim, parts) as {
    methods: { rendering: { overlay: Uint8Array } }[];
  };
  assert.equal(back.methods[0].rendering.overlay, overlay);
});

Deno.test("a rendering that names a method whose PNGs never came is dropped, and the call fails", () => {
  const parts: RelayedParts = new Map();
  const seen: string[] = [];
  relay(
    { onRendering: (r) => seen.push(r.method) },
    {
      type: "event",
      id: 1,
      event: "rendering",
      data: { method: "hirescam", renderMs: 0, sameAs: "gradcam" },
    },
    parts,
  );
  assert.deepEqual(seen, []);
  const slim = withoutRelayed(
    { methods: [{ method: "hirescam", rendering: { method: "hirescam" } }] },
    new Map([["hirescam", new Set(["rendering"])]]),
  );
  assert.throws(
    () => reviveOutcome(slim, parts),
    /rendering of hirescam never came/,
  );
});
