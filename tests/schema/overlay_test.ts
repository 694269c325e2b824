import assert from "node:assert/strict";
import { decodeBase64Image } from "../../lib/base64.ts";
import { decodeImage } from "../../lib/image.ts";
import { type GraphQLBody, graphqlRequest } from "./_helpers.ts";
import { tinyApp, tinyPng } from "./_tiny_app.ts";

/**
 * The jet colour map as a formula (MATLAB's, which OpenCV's COLORMAP_JET
 * table follows within 1/255): each channel is a clamped tent of the value.
 * Independent of the production table it checks.
 */
function jet(v: number): [number, number, number] {
  const tent = (centre: number) =>
    255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - centre)));
  return [tent(3), tent(2), tent(1)];
}

interface Explained {
  map: { width: number; height: number; values: number[] };
  overlay: string;
}

async function overlayOf(render: string): Promise<{
  image: Uint8Array;
  overlay: Uint8Array;
  values: number[];
}> {
  const { app } = await tinyApp();
  // The tiny network's default layer is 16×16: a 16×16 image needs no
  // upsampling, so each overlay pixel blends exactly one map value.
  const b = await tinyPng(21, 16);
  const response = await app.fetch(graphqlRequest(
    `query($b: String!) {
      explain(image: { base64: $b }, method: "gradcam"${render}) {
        map { width height values } overlay
      }
    }`,
    { b },
  ));
  const body: GraphQLBody = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const explained = body.data!.explain as Explained;
  assert.deepEqual([explained.map.width, explained.map.height], [16, 16]);
  const image = await decodeImage(decodeBase64Image(b, 1 << 20));
  const overlay = await decodeImage(
    decodeBase64Image(explained.overlay, 1 << 20),
  );
  assert.deepEqual([overlay.width, overlay.height], [16, 16]);
  return {
    image: image.data,
    overlay: overlay.data,
    values: explained.map.values,
  };
}

/** Checks each overlay byte against (1 − α)·image + α·jet(map value). */
function assertJetBlend(
  { image, overlay, values }: Awaited<ReturnType<typeof overlayOf>>,
  alpha: number,
) {
  // The map must spread over the colours for the check to mean anything.
  assert.ok(values.some((v) => v === 1) && values.some((v) => v < 0.2));
  let far = 0;
  for (let p = 0; p < values.length; p++) {
    const colour = jet(values[p]);
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      const expected = (1 - alpha) * image[i] + alpha * colour[c];
      // Rounding (0.5), plus α times the colour's error: the table's 256
      // steps (2) and its 1/255 from the formula (1).
      assert.ok(
        Math.abs(overlay[i] - expected) <= 0.5 + 3 * alpha + 1e-9,
        `pixel ${p} channel ${c}: ${overlay[i]}, expected ${
          expected.toFixed(2)
        } (map ${values[p]}, image ${image[i]})`,
      );
      if (Math.abs(colour[c] - image[i]) > 100) far++;
    }
  }
  // Where colour and image differ by over 100, another α (or colour map)
  // moves the byte by several units: the check above can tell them apart.
  assert.ok(far > 50, `${far} bytes where colour and image differ`);
}

Deno.test("the API's default overlay blends jet over the image at α 0.3 (no render argument)", async () => {
  assertJetBlend(await overlayOf(""), 0.3);
});

Deno.test("the API's default overlay blends jet over the image at α 0.3 (render: {})", async () => {
  assertJetBlend(await overlayOf(", render: {}"), 0.3);
});

Deno.test("an explicit α is the overlay's blend weight", async () => {
  assertJetBlend(await overlayOf(`, render: { alpha: 0.6 }`), 0.6);
});
