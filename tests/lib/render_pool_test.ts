import assert from "node:assert/strict";
import { assertSameBytes } from "../_bytes.ts";
import { decodeImage } from "../../lib/image.ts";
import type { RenderedPngs } from "../../lib/render.ts";
import type { RgbImage } from "../../lib/image.ts";
import {
  createRenderPool,
  renderHere,
  type RenderJob,
} from "../../lib/render_pool.ts";

const CHELSEA = new URL("../fixtures/chelsea.png", import.meta.url);

/** Byte-equal PNGs, call by call. */
function assertSamePngs(
  actual: readonly RenderedPngs[],
  expected: readonly RenderedPngs[],
) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    for (const kind of ["overlay", "heatmap"] as const) {
      assertSameBytes(a[kind], expected[i][kind], `${kind} ${i}`);
    }
  });
}

/** A square image of `size`² pixels with a pattern in every byte (slow to render). */
function patterned(size: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) >>> 5;
  return { width: size, height: size, data };
}

/** Each job rendered on this thread alone, in turn: the bytes to expect. */
async function renderedHere(
  jobs: readonly RenderJob[],
): Promise<RenderedPngs[]> {
  const here = renderHere();
  const expected = [];
  for (const job of jobs) expected.push(await here.render(job));
  return expected;
}

/** Maps the pool rendered on each side since `before` (a copy of its counts). */
function renderedSince(
  pool: { rendered: { thread: number; here: number } },
  before: { thread: number; here: number },
) {
  return {
    thread: pool.rendered.thread - before.thread,
    here: pool.rendered.here - before.here,
  };
}

function maps(count: number) {
  return Array.from({ length: count }, (_, k) => ({
    values: Float32Array.from({ length: 49 }, (_, i) => Math.sin(i * (k + 1))),
    width: 7,
    height: 7,
  }));
}

Deno.test("createRenderPool: the same PNG bytes as this thread alone, each to its own call and each map rendered once, however the calls interleave", async () => {
  const image = await decodeImage(await Deno.readFile(CHELSEA));
  const colormaps = ["jet", "viridis", "inferno"];
  const jobs = maps(7).map((map, i) => ({
    image,
    map,
    options: {
      overlay: true,
      heatmap: i % 2 === 0,
      colormap: colormaps[i % 3],
      alpha: 0.2 + i / 20,
    },
  }));
  const expected = await renderedHere(jobs);
  const pool = createRenderPool();
  try {
    // All at once, the last with nothing left to overlap: the thread takes
    // some, this thread the rest.
    assertSamePngs(
      await Promise.all(
        jobs.map((j, i) => pool.render(j, { here: i === jobs.length - 1 })),
      ),
      expected,
    );
    // All at once, none here: the thread renders them all.
    assertSamePngs(
      await Promise.all(jobs.map((j) => pool.render(j))),
      expected,
    );
    // One by one, and pinned here.
    for (const [i, job] of jobs.entries()) {
      assertSamePngs([await pool.render(job, { here: i % 2 === 0 })], [
        expected[i],
      ]);
    }
    const { thread, here: onThisThread } = pool.rendered;
    assert.equal(thread + onThisThread, 3 * jobs.length);
  } finally {
    pool.close();
  }
});

Deno.test("createRenderPool: calls waiting on a closed pool fail; a later call starts a fresh thread", async () => {
  const image = await decodeImage(await Deno.readFile(CHELSEA));
  const [map] = maps(1);
  const job = { image, map, options: { overlay: true, heatmap: false } };
  const pool = createRenderPool();
  const pending = pool.render(job);
  pool.close();
  await assert.rejects(pending, /closed/);
  try {
    const again = await pool.render(job);
    assertSamePngs([again], [await renderHere().render(job)]);
  } finally {
    pool.close();
  }
});

Deno.test("createRenderPool: queued maps are rendered by the thread while this thread works, with no event loop turn between", async () => {
  const image = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
  const job = {
    image,
    map: maps(1)[0],
    options: { overlay: true, heatmap: false },
  };
  const pool = createRenderPool();
  try {
    await pool.render(job); // the thread starts
    const first = pool.render(job);
    // Model work between two maps: no macrotask, so no reply is read.
    let end = performance.now() + 1000;
    while (performance.now() < end) { /* the thread renders meanwhile */ }
    const second = pool.render(job);
    end = performance.now() + 1000;
    while (performance.now() < end) { /* and this one */ }
    await Promise.all([first, second]);
    assert.deepEqual(pool.rendered, { thread: 3, here: 0 });
  } finally {
    pool.close();
  }
});

Deno.test("createRenderPool: the thread answers each map as soon as it is rendered, not after the next one", async () => {
  const small = {
    image: patterned(600),
    map: maps(1)[0],
    options: { overlay: true, heatmap: false },
  };
  // A map that takes the thread tens of milliseconds.
  const large = { ...small, image: patterned(1500) };
  const pool = createRenderPool();
  try {
    await pool.render(small); // the thread starts
    const done: Record<string, number> = {};
    const first = pool.render(small).then(() => done.small = performance.now());
    // The next map comes while the thread renders (the model worker makes
    // maps while the thread renders the earlier ones).
    const until = performance.now() + 30;
    while (performance.now() < until) { /* model work */ }
    const second = pool.render(large).then(() =>
      done.large = performance.now()
    );
    await Promise.all([first, second]);
    const here = performance.now();
    await renderHere().render(large);
    const largeMs = performance.now() - here;
    // The small map's PNG came back before the large one was rendered.
    assert.ok(
      done.large - done.small > largeMs / 3,
      `the small map came ${
        done.large - done.small
      } ms before the large (${largeMs} ms to render)`,
    );
  } finally {
    pool.close();
  }
});

Deno.test("createRenderPool: the last call renders its map here, then the queued maps the thread has not started", async () => {
  const photo = await decodeImage(await Deno.readFile(CHELSEA));
  // A slow map for the thread: 2000×2000 pixels, both PNGs.
  const large = patterned(2000);
  const [map] = maps(1);
  const slow = { image: large, map, options: { overlay: true, heatmap: true } };
  const quick = {
    image: photo,
    map,
    options: { overlay: true, heatmap: false },
  };
  const expectedQuick = await renderHere().render(quick);
  const pool = createRenderPool();
  try {
    await pool.render(quick); // the thread starts
    const before = { ...pool.rendered };
    const queued = [slow, quick, quick, quick].map((job) => pool.render(job));
    const last = pool.render(quick, { here: true });
    const all = await Promise.all([...queued, last]);
    all.slice(1).forEach((pngs) => assertSamePngs([pngs], [expectedQuick]));
    const { thread, here } = renderedSince(pool, before);
    assert.equal(thread + here, 5);
    // This thread's own map and at least one the thread was too busy for.
    assert.ok(here >= 2, `rendered here: ${here}`);
  } finally {
    pool.close();
  }
});

Deno.test("createRenderPool: maps of different images queued at once each render their own image (the kept shared copy is not overwritten under a queued map)", async () => {
  const photo = await decodeImage(await Deno.readFile(CHELSEA));
  const flipped = {
    ...photo,
    data: photo.data.slice().reverse(),
  };
  const [map] = maps(1);
  const jobs = [photo, flipped, photo, flipped, flipped].map((image) => ({
    image,
    map,
    options: { overlay: true, heatmap: false },
  }));
  const expected = await renderedHere(jobs);
  const pool = createRenderPool();
  try {
    await pool.render(jobs[0]); // the thread starts
    assertSamePngs(
      await Promise.all(jobs.map((j) => pool.render(j))),
      expected,
    );
  } finally {
    pool.close();
  }
});

Deno.test("createRenderPool: jobs on different images in turn, smaller after larger and one too large to keep a copy of, render each its own pixels", async () => {
  const photo = await decodeImage(await Deno.readFile(CHELSEA));
  const crop = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 3) };
  for (let y = 0; y < 100; y++) {
    const from = (y + 50) * photo.width * 3 + 100 * 3;
    crop.data.set(photo.data.subarray(from, from + 200 * 3), y * 200 * 3);
  }
  // 8.7 MB of pixels: over the 8 MiB the pool keeps a shared copy for.
  const large = patterned(1700);
  const [map] = maps(1);
  const images = [photo, crop, photo, large, crop, photo];
  const jobs = images.map((image) => ({
    image,
    map,
    options: { overlay: true, heatmap: false },
  }));
  const expected = await renderedHere(jobs);
  const pool = createRenderPool();
  try {
    // One at a time: each finds the thread idle and goes to it.
    const actual = [];
    for (const job of jobs) actual.push(await pool.render(job));
    assert.equal(pool.rendered.thread, jobs.length);
    assertSamePngs(actual, expected);
  } finally {
    pool.close();
  }
});

Deno.test("createRenderPool: past 256 queued maps the thread has not started, a map is rendered here at once", async () => {
  // A slow map for the thread, then more small ones than there are claim slots.
  const large = patterned(2000);
  const tiny = { width: 3, height: 2, data: new Uint8Array(18).fill(90) };
  const [map] = maps(1);
  const options = { overlay: true, heatmap: false };
  const expected = await renderHere().render({ image: tiny, map, options });
  const pool = createRenderPool();
  try {
    await pool.render({ image: tiny, map, options }); // the thread starts
    const before = { ...pool.rendered };
    const slow = pool.render({ image: large, map, options });
    const small = Array.from(
      { length: 300 },
      () => pool.render({ image: tiny, map, options }),
    );
    // A map whose claim was overwritten would never be answered: a
    // deadline turns that into a failure rather than a hang.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("maps never answered")),
        30_000,
      );
    });
    try {
      const all = await Promise.race([Promise.all(small), deadline]);
      all.forEach((pngs) => assertSamePngs([pngs], [expected]));
      await Promise.race([slow, deadline]);
    } finally {
      clearTimeout(timer);
    }
    const { thread, here } = renderedSince(pool, before);
    assert.equal(thread + here, 301);
    assert.ok(here >= 1, `rendered here: ${here}`);
  } finally {
    pool.close();
  }
});
