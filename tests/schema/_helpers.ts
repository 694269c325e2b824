/**
 * Helpers for the API tests: one app on the shared ResNet-50, GraphQL over
 * `app.fetch` or real HTTP, multipart uploads and multipart/mixed parsing.
 *
 * @module
 */
import { createRegistry, type Registry } from "../../explainers/registry.ts";
import { encodeBase64 } from "../../lib/base64.ts";
import { encodePng } from "../../lib/render.ts";
import { randomizedRuntime, resnet50Artifacts } from "../../models/mod.ts";
import {
  type App,
  type AppOptions,
  createApp,
  serveHttp,
} from "../../server/mod.ts";
import { fixtureBytes, fixtureImage, sharedResNet50Onnx } from "../_shared.ts";
import { serviceOver } from "../_service.ts";

/** The app's options, the service built from them by the helpers. */
export type TestAppOptions = Partial<Omit<AppOptions, "service" | "registry">>;

/** A GraphQL response body. */
export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: {
    message: string;
    path?: (string | number)[];
    extensions?: { code?: string; [key: string]: unknown };
  }[];
}

/** Sends a request to the app, in-process or to a base URL over HTTP. */
export type Transport = (request: Request) => Promise<Response>;

let app: Promise<App> | null = null;

/**
 * The app on the shared ResNet-50 (with its artifacts, for `sanityCheck`),
 * built once per process, on ONNX Runtime: the engine `auto` picks on a CPU
 * server, and six times faster than TF.js WASM, whose own tests are in
 * tests/models/ and tests/explainers/.
 */
export function sharedApp(): Promise<App> {
  app ??= appWith({});
  return app;
}

/** An app on the shared ResNet-50 with some options changed. */
export async function appWith(
  options: TestAppOptions & { registry?: Registry },
): Promise<App> {
  const { registry = createRegistry(), ...rest } = options;
  const runtime = await sharedResNet50Onnx();
  const service = await serviceOver(runtime, registry, {
    randomized: () =>
      randomizedRuntime(resnet50Artifacts, {
        labels: runtime.labels,
        backend: runtime.backend.name,
      }),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return createApp({ service, registry, ...rest });
}

let chelsea: Promise<string> | null = null;

/** chelsea.png as base64 (read once). */
export function chelseaBase64(): Promise<string> {
  chelsea ??= fixtureBytes("chelsea.png").then(encodeBase64);
  return chelsea;
}

/**
 * chelsea.png with its first pixel set to `seed`, as base64: the same cat,
 * but an input no pass cache has seen.
 */
export async function freshChelseaBase64(seed: number): Promise<string> {
  const image = await fixtureImage("chelsea.png");
  const data = image.data.slice();
  data.fill(seed & 0xff, 0, 3);
  return encodeBase64(await encodePng({ ...image, data }));
}

/** A fixture as a `File`, as a browser would upload it. */
export async function fixtureFile(name: string): Promise<File> {
  const bytes = new Uint8Array(await fixtureBytes(name));
  const type = name.endsWith(".png") ? "image/png" : "image/jpeg";
  return new File([bytes], name, { type });
}

/** A JSON GraphQL POST to `/graphql` on `base`. */
export function graphqlRequest(
  query: string,
  variables: Record<string, unknown> = {},
  options: { base?: string; accept?: string } = {},
): Request {
  return new Request(`${options.base ?? "http://localhost"}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: options.accept ?? "application/graphql-response+json",
    },
    body: JSON.stringify({ query, variables }),
  });
}

/**
 * A GraphQL multipart request (the upload spec): `operations`, `map`, and
 * the file as part "0", bound to `variables.<variable>`; with the CSRF
 * header `x-graphql-yoga-csrf` unless `csrf` is false.
 */
export function uploadRequest(
  query: string,
  variable: string,
  file: Blob,
  options: {
    base?: string;
    variables?: Record<string, unknown>;
    csrf?: boolean;
  } = {},
): Request {
  const form = new FormData();
  form.set(
    "operations",
    JSON.stringify({
      query,
      variables: { ...options.variables, [variable]: null },
    }),
  );
  form.set("map", JSON.stringify({ "0": [`variables.${variable}`] }));
  form.set("0", file, file instanceof File ? file.name : "upload");
  return new Request(`${options.base ?? "http://localhost"}/graphql`, {
    method: "POST",
    headers: options.csrf === false ? {} : { "x-graphql-yoga-csrf": "1" },
    body: form,
  });
}

/** Sends and parses a single (non-incremental) GraphQL response. */
export async function send(
  transport: Transport,
  request: Request,
): Promise<GraphQLBody> {
  const response = await transport(request);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(
      `Not JSON (HTTP ${response.status}): ${text.slice(0, 300)}`,
    );
  }
}

/**
 * Splits a multipart/mixed body into its JSON parts, in order. Delimiter
 * lines are `--boundary` and the closing `--boundary--`; each part has
 * headers, a blank line, then one JSON document.
 */
export function parseMultipartMixed(
  contentType: string,
  body: string,
): Record<string, unknown>[] {
  const match = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!match) throw new Error(`No boundary in ${contentType}`);
  const delimiter = `--${match[1]}`;
  const parts: string[][] = [];
  let current: string[] | null = null;
  for (const line of body.split(/\r?\n/)) {
    if (line === delimiter || line === `${delimiter}--`) {
      if (current) parts.push(current);
      current = line === delimiter ? [] : null;
      continue;
    }
    current?.push(line);
  }
  return parts.map((lines) => {
    const blank = lines.indexOf("");
    return JSON.parse(lines.slice(blank + 1).join("\n"));
  });
}

/** One server-sent event: its type (`next`, `complete`) and data. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Splits a `text/event-stream` body into its events, in order; comment
 * lines (yoga's `:` pings) are skipped.
 */
export function parseSse(body: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of body.split(/\r?\n\r?\n/)) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return events;
}

/**
 * Runs `fn` against the app served over real HTTP on a random loopback
 * port, as `main.ts` serves it (`serveHttp`); the server is shut down
 * afterwards.
 */
export async function withServer<T>(
  app: App,
  fn: (base: string) => Promise<T>,
): Promise<T> {
  const server = await serveHttp(app.fetch, {
    hostname: "127.0.0.1",
    port: 0,
  });
  try {
    return await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) {
      crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The first 33 bytes of a PNG (signature and a valid IHDR chunk) declaring
 * `width × height` 8-bit RGB pixels, and nothing else.
 */
export function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  const view = new DataView(bytes.buffer);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // "IHDR"
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24); // 8-bit, truecolour
  view.setUint32(29, crc32(bytes.subarray(12, 29)));
  return bytes;
}

/** The app's model-work queue: lanes added up, counts since the start. */
export function queueOf(app: App): {
  running: number;
  queued: number;
  started: number;
  finished: number;
  rejected: number;
  dropped: number;
} {
  const { queue } = app.service.stats();
  return {
    running: queue.running.light + queue.running.heavy,
    queued: queue.queued.light + queue.queued.heavy,
    started: queue.started,
    finished: queue.finished,
    rejected: queue.rejected,
    dropped: queue.dropped,
  };
}
