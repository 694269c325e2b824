import assert from "node:assert/strict";
import {
  relay,
  RELAYED,
  type RelayedParts,
  reviveOutcome,
  withoutRelayed,
} from "../../workers/_relay.ts";
import { toErrorData } from "../../workers/protocol.ts";
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
