/**
 * The page in a real browser against the real server (in-process, the
 * shipped ResNet-50, jobs embedded): one model, so no model picker;
 * upload, top-5, overlays drawn in the page equal to
 * the server's PNGs pixel for pixel, colour map and α without a request,
 * a second method, the map under the pointer and the keyboard, the layer
 * picker and an all-zero map, an invalid file, a phone-sized screen, and
 * GraphiQL (its own origin, a subscription through the CSRF check), all
 * with the network closed: any request not to the test server is refused
 * and fails the test.
 *
 * Set LUMEN_WEB_SCREENSHOT to a path to save a screenshot there
 * (`deno task screenshot:web` writes docs/web.png).
 */
import assert from "node:assert/strict";
import { assertSameBytes } from "../_bytes.ts";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { decodeImage } from "../../lib/image.ts";
import { TINY_CAT_PNG_BASE64 } from "../../schema/default_query.ts";
import { fixtureBytes } from "../_shared.ts";
import type { App } from "../../server/mod.ts";
import { chelseaBase64, graphqlRequest, send } from "../schema/_helpers.ts";
import { resnetJobApp } from "./_jobs.ts";
import {
  chromiumStatus,
  closeNetwork,
  cutOffOptions,
  launchChromium,
  servePage,
} from "./_browser.ts";

const status = chromiumStatus();

/** The cards whose overlay is drawn, with the canvas sizes. */
function drawnOverlays(page: Page) {
  return page.$$eval(
    ".card canvas.overlay",
    (canvases) =>
      (canvases as HTMLCanvasElement[]).map((canvas) => ({
        method: canvas.closest(".card")?.getAttribute("data-method") ?? "",
        width: canvas.width,
        height: canvas.height,
      })),
  );
}

async function waitForOverlays(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => document.querySelectorAll(".card canvas.overlay").length === n,
    count,
    { timeout: 30_000 },
  );
}

/** The RGB bytes drawn on a card's canvas once it shows `style`. */
async function drawnPixels(
  page: Page,
  method: string,
  style: string,
): Promise<Uint8Array> {
  const selector = `.card[data-method="${method}"] canvas.overlay`;
  await page.waitForSelector(`${selector}[data-style="${style}"]`);
  const rgba: number[] = await page.$eval(selector, (canvas) => {
    const c = canvas as HTMLCanvasElement;
    const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height)
      .data;
    return Array.from(data);
  });
  return Uint8Array.from(rgba.filter((_, i) => i % 4 !== 3));
}

const STYLES: [string, number][] = [
  ["jet", 0.3],
  ["jet", 0.45],
  ["viridis", 0.45],
  ["viridis", 0.3],
];

/** The server's overlay PNGs of gradcam on chelsea.png, per style. */
async function serverOverlays(
  app: App,
): Promise<Uint8Array[]> {
  const fields = STYLES.map(([colormap, alpha], i) =>
    `s${i}: explain(image: { base64: $b }, method: "gradcam", ` +
    `render: { colormap: "${colormap}", alpha: ${alpha} }) { overlay }`
  );
  const body = await send(
    app.fetch,
    graphqlRequest(`query($b: String!) { ${fields.join(" ")} }`, {
      b: await chelseaBase64(),
    }),
  );
  assert.equal(body.errors, undefined);
  return STYLES.map((_, i) => {
    const url = (body.data![`s${i}`] as { overlay: string }).overlay;
    return Uint8Array.from(atob(url.split(",")[1]), (c) => c.charCodeAt(0));
  });
}

Deno.test({
  name:
    "web page: upload, overlays drawn here, layers, errors, phone, GraphiQL",
  ignore: !status.run,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using jobs = await resnetJobApp();
    const { app } = jobs;
    const about = await send(
      app.fetch,
      graphqlRequest(
        "{ model { defaultLayer backend } explainers { name slow } }",
      ),
    );
    const { model, explainers } = about.data as {
      model: { defaultLayer: string; backend: string };
      explainers: { name: string; slow: boolean }[];
    };
    const served = await servePage(app);
    const { base } = served;
    const browser = await launchChromium();
    try {
      const outside = await closeNetwork(browser.context, base);
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      const graphqlRequests: string[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname === "/graphql") {
          graphqlRequests.push(request.postData()?.slice(0, 80) ?? "");
        }
      });
      const chelsea = {
        name: "chelsea.png",
        mimeType: "image/png",
        buffer: Buffer.from(await fixtureBytes("chelsea.png")),
      };

      await t.step(
        "methods (slow ones marked) and layers, grouped",
        async () => {
          await page.goto(`${base}/`);
          await page.waitForSelector("#server-status[data-state=ready]");
          // One model: no picker; the status line names it.
          assert.equal(await page.isHidden("#model-field"), true);
          assert.match(
            await page.textContent("#server-status") ?? "",
            /^resnet50 on /,
          );
          const methods = await page.$$eval(
            "#methods input[type=checkbox]",
            (inputs) => (inputs as HTMLInputElement[]).map((i) => i.value),
          );
          assert.deepEqual(methods, explainers.map((e) => e.name));
          const slow = await page.$$eval(
            "#methods .method:has(.badge) input",
            (inputs) => (inputs as HTMLInputElement[]).map((i) => i.value),
          );
          assert.deepEqual(
            slow,
            explainers.filter((e) => e.slow).map((e) => e.name),
          );
          assert.deepEqual(slow.sort(), [
            "ablationcam",
            "integratedgradients",
            "occlusion",
            "scorecam",
            "smoothgrad",
          ]);
          assert.equal(await page.inputValue("#layer"), model.defaultLayer);
          const groups = await page.$$eval(
            "#layer optgroup",
            (nodes) =>
              (nodes as HTMLOptGroupElement[]).map((g) => ({
                label: g.label,
                first: g.querySelector("option")?.textContent,
              })),
          );
          assert.deepEqual(groups[0], {
            label: "Stage outputs",
            first: "layer1 · conv2_block3_out",
          });
          const texts = await page.$$eval(
            "#layer option",
            (nodes) => nodes.map((o) => o.textContent ?? ""),
          );
          assert.deepEqual(texts.slice(0, 4), [
            "layer1 · conv2_block3_out",
            "layer2 · conv3_block4_out",
            "layer3 · conv4_block6_out",
            "layer4 · conv5_block3_out",
          ]);
          // Old Keras names stay reachable, beside the modern ones.
          assert.ok(texts.includes("conv4_block6_out (activation_39)"));
          assert.ok(texts.includes("pool1_pool (max_pooling2d)"));
          assert.ok(texts.includes("conv1_bn (bn_conv1)"));
          assert.match(
            await page.textContent("#layer-about") ?? "",
            /^activation_48 · Activation · 7×7×2048 · also conv5_block3_out, layer4 · recommended/,
          );
          assert.deepEqual(await cutOffOptions(page, "#layer"), []);
        },
      );

      await t.step(
        "upload chelsea.png, gradcam: top-5 and overlay",
        async () => {
          await page.check("#method-gradcam");
          await page.setInputFiles("#file", chelsea);
          await waitForOverlays(page, 1);
          const predictions = await page.textContent("#predictions");
          assert.match(predictions ?? "", /Egyptian_cat/);
          assert.equal(await page.locator("#predictions li").count(), 5);
          const original = await page.$eval(
            "#original",
            (img) => [
              (img as HTMLImageElement).naturalWidth,
              (img as HTMLImageElement).naturalHeight,
            ],
          );
          assert.deepEqual(original, [451, 300]);
          const [overlay] = await drawnOverlays(page);
          assert.deepEqual(overlay, {
            method: "gradcam",
            width: 451,
            height: 300,
          });
          const label = await page.getAttribute(
            ".card canvas.overlay",
            "aria-label",
          );
          assert.match(label ?? "", /gradcam heatmap over chelsea\.png/);
          assert.match(
            await page.textContent("#server-status") ?? "",
            new RegExp(model.backend),
          );
          // The page asks for maps only: the server renders no overlay.
          assert.ok(graphqlRequests.every((q) => !/overlay/.test(q)));
        },
      );

      await t.step(
        "colour map and α redraw here, equal to the server's PNGs, no request",
        async () => {
          const expected = await serverOverlays(app);
          const before = graphqlRequests.length;
          await page.focus("#alpha");
          for (const [i, [colormap, alpha]] of STYLES.entries()) {
            if (colormap !== await page.inputValue("#colormap")) {
              await page.selectOption("#colormap", colormap);
            }
            const steps = Math.round(
              (alpha - Number(
                await page.inputValue("#alpha"),
              )) / 0.05,
            );
            for (let k = 0; k < Math.abs(steps); k++) {
              await page.press(
                "#alpha",
                steps > 0 ? "ArrowRight" : "ArrowLeft",
              );
            }
            const drawn = await drawnPixels(
              page,
              "gradcam",
              `${colormap} ${alpha}`,
            );
            const server = await decodeImage(expected[i]);
            assertSameBytes(drawn, server.data, `${colormap}, α ${alpha}`);
          }
          assert.equal(graphqlRequests.length, before, "no request was sent");
          // The download has the server's pixels (the PNG's zlib stream may
          // differ: the browser's deflate is not Deno's).
          const [download] = await Promise.all([
            page.waitForEvent("download"),
            page.click(
              '.card[data-method="gradcam"] button:has-text("Overlay PNG")',
            ),
          ]);
          assert.equal(
            download.suggestedFilename(),
            "chelsea_gradcam_overlay.png",
          );
          const downloaded = await decodeImage(
            await Deno.readFile(await download.path()),
          );
          const server = await decodeImage(expected[3]);
          assertSameBytes(downloaded.data, server.data, "the download");
        },
      );

      await t.step("a second method: two overlays side by side", async () => {
        await page.check("#method-activation");
        await waitForOverlays(page, 2);
        const overlays = await drawnOverlays(page);
        assert.deepEqual(overlays.map((o) => o.method).sort(), [
          "activation",
          "gradcam",
        ]);
        for (const o of overlays) {
          assert.deepEqual([o.width, o.height], [451, 300]);
        }
        const boxes = await page.$$eval(
          ".card",
          (cards) => cards.map((c) => c.getBoundingClientRect().top),
        );
        assert.equal(boxes[0], boxes[1], "the cards share a row");
      });

      await t.step("hover and arrow keys read the map", async () => {
        const card = '.card[data-method="gradcam"]';
        await page.hover(`${card} canvas.overlay`);
        assert.match(
          await page.textContent(`${card} .value`) ?? "",
          /^Map value \d\.\d{3} at cell \(3, 3\) of 7×7$/,
        );
        await page.focus(`${card} .probe`);
        await page.keyboard.press("ArrowRight");
        assert.match(
          await page.textContent(`${card} .value`) ?? "",
          /at cell \(4, 3\) of 7×7$/,
        );
        const json = await page.getAttribute(
          `${card} a[href^="blob:"]`,
          "download",
        );
        assert.equal(json, "chelsea_gradcam_map.json");
      });

      const screenshot = Deno.env.get("LUMEN_WEB_SCREENSHOT");
      if (screenshot) {
        // A slow method at work beside the fast ones: scorecam as a job,
        // pictured once it reports progress, then dropped (which cancels
        // the job).
        await page.check("#method-scorecam");
        await page.waitForFunction(
          () =>
            (document.querySelector<HTMLProgressElement>(
              '.card[data-method="scorecam"][data-state="running"] progress',
            )?.value ?? 0) > 0,
          null,
          { timeout: 60_000 },
        );
        await page.evaluate(() => {
          globalThis.scrollTo(0, 0);
          document.getElementById("methods")!.scrollTop = 0;
        });
        await page.screenshot({ path: screenshot });
        await page.uncheck("#method-scorecam");
      }

      await t.step("an all-zero map says why and what to try", async () => {
        await page.selectOption("#layer", "max_pooling2d");
        const note = page.locator('.card.empty[data-method="gradcam"] .note');
        await note.waitFor({ timeout: 30_000 });
        assert.match(
          await note.textContent() ?? "",
          /^Nothing to show: at layer max_pooling2d, gradcam finds nothing that speaks for Egyptian cat \(the map is all zero\)\. Try a later layer, such as layer4 \(the default\)\.$/,
        );
        await waitForOverlays(page, 1); // activation is not empty there
        await page.selectOption("#layer", model.defaultLayer);
        await waitForOverlays(page, 2);
      });

      await t.step("the class re-explains", async () => {
        const about = '.card[data-method="gradcam"] .about';
        await page.click('#predictions button:has-text("tabby")');
        await page.waitForSelector(`${about}:has-text("tabby (class 281")`);
        await page.fill("#class-search", "persian");
        await page.click('#class-results button:has-text("Persian_cat")');
        await page.waitForSelector(
          `${about}:has-text("Persian_cat (class 283")`,
        );
        await page.click("#class-reset");
        await page.waitForSelector(
          `${about}:has-text("Egyptian_cat (class 285"):has-text("viridis, α 0.3")`,
        );
        await waitForOverlays(page, 2);
      });

      await t.step("an invalid file shows the error message", async () => {
        await page.setInputFiles("#file", {
          name: "notes.png",
          mimeType: "image/png",
          buffer: Buffer.from("these are not pixels"),
        });
        const problem = page.locator('.problem[data-code="INVALID_IMAGE"]');
        await problem.waitFor({ timeout: 15_000 });
        assert.match(
          await problem.textContent() ?? "",
          /not an image Lumen can read/,
        );
        assert.equal((await drawnOverlays(page)).length, 0);
      });

      await t.step(
        "a phone: the results come into view, nothing is cut off",
        async () => {
          await page.setViewportSize({ width: 390, height: 844 });
          await page.goto(`${base}/`);
          await page.waitForSelector("#server-status[data-state=ready]");
          await page.setInputFiles("#file", chelsea);
          await page.waitForFunction(
            () => {
              const first = document.querySelector("#predictions li");
              if (!first || document.activeElement?.id !== "results") {
                return false;
              }
              const box = first.getBoundingClientRect();
              return box.top >= 0 && box.bottom <= globalThis.innerHeight;
            },
            null,
            { timeout: 30_000 },
          );
          const overflow = await page.evaluate(() =>
            document.documentElement.scrollWidth - globalThis.innerWidth
          );
          const tooWide = await page.evaluate(() =>
            [...document.querySelectorAll("*")].filter((e) =>
              e.getBoundingClientRect().right > globalThis.innerWidth
            ).map((e) => `${e.tagName}#${e.id}.${e.className}`).slice(0, 8)
          );
          assert.ok(
            overflow <= 0,
            `${overflow} px wider than the screen: ${tooWide.join(", ")}`,
          );
          assert.deepEqual(await cutOffOptions(page, "#layer"), []);
        },
      );

      await t.step(
        "GraphiQL: its own origin, and a subscription runs",
        async () => {
          await page.setViewportSize({ width: 1280, height: 900 });
          await page.goto(`${base}/graphql`);
          await page.waitForSelector(".graphiql-container .graphiql-editor", {
            timeout: 20_000,
          });
          const editor = await page.textContent(".graphiql-query-editor");
          assert.match(
            (editor ?? "").replaceAll("\u00a0", " "),
            new RegExp(`curl ${base}/graphql -H 'x-graphql-yoga-csrf: 1'`),
          );
          await page.click(".graphiql-execute-button");
          await page.waitForFunction(
            () =>
              document.querySelector(".graphiql-response")?.textContent
                ?.includes('"data"'),
            null,
            { timeout: 20_000 },
          );
          const subscription = `subscription { explainProgress(image: ` +
            `{ base64: "${TINY_CAT_PNG_BASE64}" }, method: "gradcam") ` +
            `{ fraction explanation { label } } }`;
          await page.evaluate(() => localStorage.clear());
          await page.goto(
            `${base}/graphql?query=${encodeURIComponent(subscription)}`,
          );
          await page.waitForSelector(".graphiql-container .graphiql-editor", {
            timeout: 20_000,
          });
          await page.click(".graphiql-execute-button");
          await page.waitForFunction(
            () =>
              /"fraction":\s*1/.test(
                document.querySelector(".graphiql-response")?.textContent ?? "",
              ),
            null,
            { timeout: 30_000 },
          );
          const response = await page.textContent(".graphiql-response") ?? "";
          assert.doesNotMatch(response, /CSRF|403/);
          assert.match(response, /"label"/);
        },
      );

      assert.deepEqual(outside, [], "requests left the test server");
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      await served.close();
    }
  },
});
