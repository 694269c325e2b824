/**
 * The page in a real browser against the real server (in-process, the
 * shipped ResNet-50): upload, top-5, overlays as they arrive, a second
 * method, the map under the pointer and the keyboard, an invalid file, a
 * phone-sized screen, and GraphiQL, all with the network closed: any
 * request not to the test server is refused and fails the test.
 *
 * Set LUMEN_WEB_SCREENSHOT to a path to save a screenshot there
 * (`deno task screenshot:web` writes docs/web.png).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { createRegistry } from "../../explainers/registry.ts";
import { createApp } from "../../schema/app.ts";
import { createWebHandler } from "../../web/mod.ts";
import { fixtureBytes, sharedResNet50 } from "../_shared.ts";
import { buildWebBundle, chromiumStatus, launchChromium } from "./_browser.ts";

const status = chromiumStatus();

/** The overlays whose image has loaded, with their natural sizes. */
function loadedOverlays(page: Page) {
  return page.$$eval(
    ".card img.overlay",
    (images) =>
      (images as HTMLImageElement[])
        .filter((img) => img.complete && img.naturalWidth > 0)
        .map((img) => ({
          method: img.closest(".card")?.getAttribute("data-method") ?? "",
          width: img.naturalWidth,
          height: img.naturalHeight,
        })),
  );
}

async function waitForOverlays(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll<HTMLImageElement>(".card img.overlay")]
        .filter((img) => img.complete && img.naturalWidth > 0).length === n,
    count,
    { timeout: 30_000 },
  );
}

Deno.test({
  name: "web page: upload, overlays, two methods, errors, GraphiQL offline",
  ignore: !status.run,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const [runtime, dist] = await Promise.all([
      sharedResNet50(),
      buildWebBundle(),
    ]);
    const registry = createRegistry();
    const app = createApp({ runtime: () => runtime, registry });
    const web = createWebHandler({ distDir: dist });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => web(request) ?? app.fetch(request),
    );
    const base = `http://127.0.0.1:${server.addr.port}`;
    const browser = await launchChromium();
    const outside: string[] = [];
    try {
      await browser.context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.origin === base || ["data:", "blob:"].includes(url.protocol)) {
          return route.continue();
        }
        outside.push(url.href);
        return route.abort("internetdisconnected");
      });
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));

      await t.step("lists the server's methods and layers", async () => {
        await page.goto(`${base}/`);
        await page.waitForSelector("#server-status[data-state=ready]");
        const methods = await page.$$eval(
          "#methods input[type=checkbox]",
          (inputs) => (inputs as HTMLInputElement[]).map((i) => i.value),
        );
        assert.deepEqual(methods, [...registry.names]);
        assert.equal(
          await page.inputValue("#layer"),
          runtime.catalog.resolve(null).name,
        );
      });

      await t.step(
        "upload chelsea.png, gradcam: top-5 and overlay",
        async () => {
          await page.check("#method-gradcam");
          await page.setInputFiles("#file", {
            name: "chelsea.png",
            mimeType: "image/png",
            buffer: Buffer.from(await fixtureBytes("chelsea.png")),
          });
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
          const [overlay] = await loadedOverlays(page);
          assert.equal(overlay.method, "gradcam");
          assert.equal(overlay.width / overlay.height, 451 / 300);
          const alt = await page.getAttribute(".card img.overlay", "alt");
          assert.match(alt ?? "", /gradcam heatmap over chelsea\.png/);
          assert.match(
            await page.textContent("#server-status") ?? "",
            new RegExp(runtime.backend.name),
          );
        },
      );

      await t.step("a second method: two overlays side by side", async () => {
        await page.check("#method-activation");
        await waitForOverlays(page, 2);
        const overlays = await loadedOverlays(page);
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
        await page.hover(`${card} img.overlay`);
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
        const png = await page.getAttribute(
          `${card} a[href^="data:"]`,
          "download",
        );
        assert.equal(png, "chelsea_gradcam_overlay.png");
      });

      const screenshot = Deno.env.get("LUMEN_WEB_SCREENSHOT");
      if (screenshot) {
        await page.screenshot({ path: screenshot });
      }

      await t.step("class, colour map and α re-explain", async () => {
        const about = '.card[data-method="gradcam"] .about';
        await page.click('#predictions button:has-text("tabby")');
        await page.waitForSelector(`${about}:has-text("tabby (class 281")`);
        await page.fill("#class-search", "persian");
        await page.click('#class-results button:has-text("Persian_cat")');
        await page.waitForSelector(
          `${about}:has-text("Persian_cat (class 283")`,
        );
        await page.click("#class-reset");
        await page.selectOption("#colormap", "viridis");
        await page.waitForSelector(
          `${about}:has-text("Egyptian_cat (class 285"):has-text("viridis")`,
        );
        await page.focus("#alpha");
        await page.keyboard.press("ArrowRight");
        await page.waitForSelector(`${about}:has-text("viridis, α 0.35")`);
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
        assert.equal(await loadedOverlays(page).then((o) => o.length), 0);
      });

      await t.step("fits a phone screen", async () => {
        await page.setViewportSize({ width: 360, height: 740 });
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
      });

      await t.step("GraphiQL renders and runs offline", async () => {
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(`${base}/graphql`);
        await page.waitForSelector(".graphiql-container .graphiql-editor", {
          timeout: 20_000,
        });
        await page.click(".graphiql-execute-button");
        await page.waitForFunction(
          () =>
            document.querySelector(".graphiql-response")?.textContent
              ?.includes('"data"'),
          null,
          { timeout: 20_000 },
        );
      });

      assert.deepEqual(outside, [], "requests left the test server");
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dist, { recursive: true });
    }
  },
});
