import assert from "node:assert/strict";
import { escapeHtml, renderReport } from "../../cli/report.ts";

const DOT = "data:image/png;base64,iVBORw0KGgo=";

Deno.test("renderReport: a grid of images × methods, self-contained", () => {
  const html = renderReport({
    methods: ["gradcam", "scorecam"],
    rows: [{
      name: "cat <1>.png",
      image: DOT,
      width: 451,
      height: 300,
      top: [{ label: "Egyptian_cat", probability: 0.93 }],
      cells: [
        {
          overlay: DOT,
          label: "Egyptian_cat",
          classIndex: 285,
          probability: 0.93,
          layer: "activation_48",
          explainMs: 12.3,
        },
        { error: "Method failed: <boom>" },
      ],
    }],
    failures: [{ path: "bad.png", message: "Cannot decode image" }],
    about: { Model: "resnet50 on wasm" },
  });
  assert.match(html, /^<!doctype html>/);
  assert.equal(html.match(/<th scope="col">/g)?.length, 3);
  assert.equal(html.match(/<img /g)?.length, 2);
  assert.match(
    html,
    /alt="gradcam heatmap over cat &lt;1&gt;.png, explaining Egyptian cat"/,
  );
  assert.match(html, /Method failed: &lt;boom&gt;/);
  assert.match(html, /<code>bad.png<\/code>: Cannot decode image/);
  assert.match(html, /Egyptian cat 93.0%/);
  assert.doesNotMatch(html, /<script|<link|src="https?:/);
});

Deno.test("escapeHtml: the five special characters", () => {
  assert.equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
  );
});
