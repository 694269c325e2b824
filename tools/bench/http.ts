/**
 * The HTTP figures on a real server: one Grad-CAM with its overlay and
 * explainMany of the six gradient CAMs with theirs, in turns, each request
 * on an image the server has not seen (base64 PNG in, overlay PNG out);
 * then requests per second with 1, 2 and 4 clients. A new server's first
 * requests are timed apart from these.
 *
 * @module
 */
import { GRADIENT_CAMS } from "../../explainers/mod.ts";
import { cpuNow } from "./cpu.ts";
import type { LumenServer } from "./server.ts";
import { alternate } from "./stats.ts";

const GRADCAM = `query($b: String!) {
  explain(image: { base64: $b }, method: "gradcam") {
    overlay timings { decode forward explain render }
  }
}`;

const PREDICT = `query($b: String!) {
  predict(image: { base64: $b }) { classIndex }
}`;

const MANY = `query($b: String!, $methods: [String!]!) {
  explainMany(image: { base64: $b }, methods: $methods) { method overlay }
}`;

// At layer3 no two of the six maps render alike (at layer4 HiResCAM's and
// XGrad-CAM's render as Grad-CAM's, and their overlay is encoded once): the
// same comparison with every overlay made.
const GRADCAM_LAYER3 = `query($b: String!) {
  explain(image: { base64: $b }, method: "gradcam", layer: "layer3") { overlay }
}`;

const MANY_LAYER3 = `query($b: String!, $methods: [String!]!) {
  explainMany(image: { base64: $b }, methods: $methods, layer: "layer3") {
    method overlay
  }
}`;

/** A supply of base64 images never sent before. */
export type ImageSupply = () => string;

function checkOverlay(overlay: unknown): void {
  if (typeof overlay !== "string" || !overlay.startsWith("data:image/png")) {
    throw new Error(`No overlay PNG in the answer: ${String(overlay)}`);
  }
}

/**
 * One Grad-CAM request; its server-side timings.
 *
 * @example
 * ```ts
 * const { timings } = await gradcamRequest(server, images());
 * ```
 */
export async function gradcamRequest(
  server: LumenServer,
  base64: string,
): Promise<{ timings: Record<string, number> }> {
  const data = await server.graphql(GRADCAM, { b: base64 });
  const explanation = data.explain as {
    overlay: string;
    timings: Record<string, number>;
  };
  checkOverlay(explanation.overlay);
  return { timings: explanation.timings };
}

/** explainMany's answer: six explanations, each with an overlay. */
function checkMany(data: Record<string, unknown>): void {
  const list = data.explainMany as { overlay: string }[];
  if (list.length !== GRADIENT_CAMS.length) {
    throw new Error(`explainMany answered ${list.length} explanations`);
  }
  for (const e of list) checkOverlay(e.overlay);
}

/** Grad-CAM, predict and explainMany, each on a new image. */
function contenders(
  server: LumenServer,
  images: ImageSupply,
  onTimings: (timings: Record<string, number>) => void,
) {
  return {
    "http.gradcam": async (i: number) => {
      const { timings } = await gradcamRequest(server, images());
      if (i >= 0) onTimings(timings);
    },
    "http.predict": async () => {
      const data = await server.graphql(PREDICT, { b: images() });
      if ((data.predict as unknown[]).length !== 5) {
        throw new Error("predict did not answer 5 classes");
      }
    },
    "http.many": async () => {
      checkMany(
        await server.graphql(MANY, { b: images(), methods: GRADIENT_CAMS }),
      );
    },
  };
}

/** Grad-CAM and explainMany at layer3, each on a new image. */
function layer3Contenders(server: LumenServer, images: ImageSupply) {
  return {
    "http.layer3.gradcam": async () => {
      const data = await server.graphql(GRADCAM_LAYER3, { b: images() });
      checkOverlay((data.explain as { overlay: string }).overlay);
    },
    "http.layer3.many": async () => {
      checkMany(
        await server.graphql(MANY_LAYER3, {
          b: images(),
          methods: GRADIENT_CAMS,
        }),
      );
    },
  };
}

/**
 * A new server's first requests: Grad-CAM, predict and explainMany in
 * turns with no warm-up, as the first users of a fresh process meet them
 * (V8 still compiling the hot paths, the heaps still growing); samples
 * under `http.first.*`.
 *
 * @example
 * ```ts
 * const samples = await firstRequests(server, images, { runs: 10 });
 * samples["http.first.gradcam"].length; // 10
 * ```
 */
export async function firstRequests(
  server: LumenServer,
  images: ImageSupply,
  options: { runs: number },
): Promise<Record<string, number[]>> {
  const samples = await alternate(contenders(server, images, () => {}), {
    runs: options.runs,
    warmUp: 0,
  });
  return {
    "http.first.gradcam": samples["http.gradcam"],
    "http.first.many": samples["http.many"],
  };
}

/**
 * One round of Grad-CAM, predict (the HTTP path with no map and no PNG
 * out) and explainMany in turns; samples by figure id, with Grad-CAM's
 * time split into the server's own timings and the rest. Then Grad-CAM and
 * explainMany at layer3 in turns of their own.
 *
 * @example
 * ```ts
 * const samples = await httpRound(server, images, { runs: 10 });
 * ```
 */
export async function httpRound(
  server: LumenServer,
  images: ImageSupply,
  options: { runs: number },
): Promise<Record<string, number[]>> {
  const parts: Record<string, number[]> = {
    decode: [],
    forward: [],
    explain: [],
    render: [],
  };
  const serverMs: number[] = [];
  const samples = await alternate(
    contenders(server, images, (timings) => {
      for (const k of Object.keys(parts)) parts[k].push(timings[k]);
      serverMs.push(Object.keys(parts).reduce((s, k) => s + timings[k], 0));
    }),
    { runs: options.runs, warmUp: 2 },
  );
  const out: Record<string, number[]> = { ...samples };
  for (const [k, v] of Object.entries(parts)) out[`http.gradcam.${k}`] = v;
  out["http.gradcam.rest"] = samples["http.gradcam"].map((t, i) =>
    t - serverMs[i]
  );
  const layer3 = await alternate(layer3Contenders(server, images), {
    runs: options.runs,
    warmUp: 2,
  });
  return { ...out, ...layer3 };
}

/**
 * CPU time of Grad-CAM and explainMany requests in turns, over every
 * process they touch (`cpu.ts`), less what reading it costs (a window with
 * no request in it); untimed requests of their own, since reading the
 * counts takes time.
 *
 * @example
 * ```ts
 * const samples = await cpuRound(server, images, { runs: 10 });
 * samples["http.cpu.many"].length; // 10
 * ```
 */
export async function cpuRound(
  server: LumenServer,
  images: ImageSupply,
  options: { runs: number },
): Promise<Record<string, number[]>> {
  const empty: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = await cpuNow(server.base);
    empty.push(await cpuNow(server.base) - before);
  }
  const reading = empty.sort((a, b) => a - b)[2];
  const run = contenders(server, images, () => {});
  const out: Record<string, number[]> = {
    "http.cpu.gradcam": [],
    "http.cpu.many": [],
  };
  for (let i = 0; i < options.runs; i++) {
    for (const kind of ["gradcam", "many"] as const) {
      const before = await cpuNow(server.base);
      await run[`http.${kind}`](i);
      const after = await cpuNow(server.base);
      out[`http.cpu.${kind}`].push(after - before - reading);
    }
  }
  return out;
}

/**
 * Grad-CAM requests per second with 1, 2 and 4 clients sending one request
 * after another; one sample per level.
 *
 * @example
 * ```ts
 * const samples = await throughputRound(server, images, { requests: 12 });
 * samples["http.throughput.4"]; // [7.1]
 * ```
 */
export async function throughputRound(
  server: LumenServer,
  images: ImageSupply,
  options: { requests: number },
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const clients of [1, 2, 4]) {
    const each = Math.max(1, Math.ceil(options.requests / clients));
    const start = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < each; i++) {
          await gradcamRequest(server, images());
        }
      }),
    );
    const seconds = (performance.now() - start) / 1e3;
    out[`http.throughput.${clients}`] = [clients * each / seconds];
  }
  return out;
}
