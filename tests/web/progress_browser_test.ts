/**
 * Slow methods in a real browser, on the tiny network with two slow test
 * methods: one held half-way until the test lets it go, one that fails.
 * Selected with a fast method, the fast card completes first while the
 * slow one shows its progress and an estimate, the other slow one waits its
 * turn, and the failing one fails only its own card.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fixtureBytes } from "../_shared.ts";
import { tinyApp } from "../schema/_tiny_app.ts";
import {
  chromiumStatus,
  closeNetwork,
  launchChromium,
  servePage,
} from "./_browser.ts";
import { failingSlowExplainer, heldExplainer } from "./_slow.ts";

const status = chromiumStatus();

Deno.test({
  name: "web page: a slow method shows progress and never holds up a fast one",
  ignore: !status.run,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const held = heldExplainer();
    const { app } = await tinyApp([held.explainer, failingSlowExplainer]);
    const served = await servePage(app);
    const browser = await launchChromium();
    try {
      const outside = await closeNetwork(browser.context, served.base);
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(`${served.base}/`);
      await page.waitForSelector("#server-status[data-state=ready]");
      assert.deepEqual(
        await page.$$eval(
          "#methods .method:has(.badge) label",
          (labels) => labels.map((l) => l.textContent),
        ),
        ["held slow", "failslow slow"],
        "the slow methods carry a badge",
      );
      assert.match(
        await page.textContent("#method-held-about") ?? "",
        /Slow: many model passes/,
      );
      await page.check("#method-held");
      await page.check("#method-failslow");
      assert.equal(await page.isChecked("#method-gradcam"), true);
      await page.setInputFiles("#file", {
        name: "chelsea.png",
        mimeType: "image/png",
        buffer: Buffer.from(await fixtureBytes("chelsea.png")),
      });

      // Half-way through the slow method: the fast card is complete.
      await held.halfway;
      const running = '.card[data-method="held"][data-state="running"]';
      await page.waitForFunction(
        (selector) =>
          document.querySelector<HTMLProgressElement>(`${selector} progress`)
            ?.value === 0.5,
        running,
      );
      assert.equal(
        await page.locator('.card[data-method="gradcam"] canvas.overlay')
          .count(),
        1,
      );
      assert.match(
        await page.textContent(`${running} .note`) ?? "",
        /^50\.0% done · (about \d+ s left|less than a second left)$/,
      );
      assert.equal(
        await page.textContent('.card[data-method="failslow"] .note'),
        "Waiting: slow methods run one at a time, after held.",
      );

      held.release();
      await page.waitForSelector('.card[data-method="held"] canvas.overlay');
      const failed = page.locator('.card.failed[data-method="failslow"]');
      await failed.waitFor();
      assert.match(await failed.textContent() ?? "", /INTERNAL_SERVER_ERROR/);
      assert.equal(
        await failed.locator('button:has-text("Try again")').count(),
        1,
      );
      // The failure is the slow method's own: the fast card and the page
      // are untouched.
      assert.equal(
        await page.locator('.card[data-method="gradcam"] canvas.overlay')
          .count(),
        1,
      );
      assert.equal(await page.textContent("#problems"), "");
      assert.deepEqual(outside, []);
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      await served.close();
    }
  },
});
