import assert from "node:assert/strict";
import { createRegistry } from "../../explainers/registry.ts";
import { encodeBase64 } from "../../lib/base64.ts";
import { createApp } from "../../server/mod.ts";
import type { Logger } from "../../lib/log.ts";
import { pendingService } from "../_service.ts";
import { fixtureBytes } from "../_shared.ts";
import {
  appWith,
  chelseaBase64,
  type GraphQLBody,
  graphqlRequest,
  pngHeader,
  send,
  sharedApp,
  type Transport,
  uploadRequest,
  withServer,
} from "./_helpers.ts";
import { brokenExplainer } from "./_tiny_app.ts";

interface Case {
  name: string;
  code: string;
  query: string;
  variables?: (b64: string) => Record<string, unknown>;
  /** Sent as a multipart upload bound to `$f` instead of JSON. */
  file?: () => Promise<Blob>;
  /** A substring the message must contain. */
  says?: string;
}

/** The first half of a fixture, as base64. */
const truncated = await Promise.all(
  ["chelsea.png", "chelsea.jpg"].map(async (name) => {
    const bytes = await fixtureBytes(name);
    return encodeBase64(bytes.subarray(0, bytes.length >> 1));
  }),
);

/** About 2 MB of GraphQL: the same field selected over and over. */
const HUGE_QUERY = `{ ${"explainers { name } ".repeat(100_000)}}`;

/** `n` aliases of `explain`. */
const aliases = (n: number, selection = "label") =>
  `query($b: String) { ${
    Array.from(
      { length: n },
      (_, i) => `e${i}: explain(image: { base64: $b }) { ${selection} }`,
    ).join(" ")
  } }`;

/** An introspection query nested `n` `ofType` levels deep. */
const deep = (n: number) =>
  `{ __schema { types { ${"ofType { ".repeat(n)}name${" }".repeat(n)} } } }`;

const EXPLAIN = (args: string) =>
  `query($b: String) { explain(image: { base64: $b }${args}) { label overlay } }`;

/** Random bytes, seeded so failures reproduce. */
function noise(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  let x = 12345;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

const CASES: Case[] = [
  {
    name: "two image sources",
    code: "BAD_USER_INPUT",
    query:
      `query($b: String) { predict(image: { base64: $b, url: "http://x/" }) { label } }`,
    says: "exactly one",
  },
  {
    name: "no image source",
    code: "BAD_USER_INPUT",
    query: `{ predict(image: {}) { label } }`,
    says: "exactly one",
  },
  {
    name: "classIndex 1000",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(", classIndex: 1000"),
    says: "0 to 999",
  },
  {
    name: "classIndex -1",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(", classIndex: -1"),
    says: "0 to 999",
  },
  {
    name: "classIndex and className together",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(', classIndex: 1, className: "tabby"'),
  },
  {
    name: "unknown className",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(', className: "tabbby"'),
    says: '"tabby"',
  },
  {
    name: "alpha 2",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(", render: { alpha: 2 }"),
    says: "alpha",
  },
  {
    name: "options for a method not requested",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(", options: { activation: {} }"),
  },
  {
    name: "options a method does not take",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(", options: { gradcam: { k: 1 } }"),
  },
  {
    name: "no methods",
    code: "BAD_USER_INPUT",
    query:
      `query($b: String) { explainMany(image: { base64: $b }, methods: []) { label } }`,
  },
  {
    name: "top 0",
    code: "BAD_USER_INPUT",
    query:
      `query($b: String) { predict(image: { base64: $b }, top: 0) { label } }`,
  },
  {
    name: "url while URL inputs are off",
    code: "BAD_USER_INPUT",
    query:
      `{ predict(image: { url: "https://example.com/cat.png" }) { label } }`,
    says: "--allow-url-host",
  },
  {
    name: "file given as a string",
    code: "BAD_USER_INPUT",
    query: `{ predict(image: { file: "cat.png" }) { label } }`,
    says: "multipart",
  },
  {
    name: "unknown method",
    code: "UNKNOWN_METHOD",
    query: EXPLAIN(', method: "no-such-method"'),
    says: '"gradcam"',
  },
  {
    name: "unknown method in explainMany, before any work",
    code: "UNKNOWN_METHOD",
    query:
      `query($b: String) { explainMany(image: { base64: $b }, methods: ["gradcam", "nope"]) { label } }`,
  },
  {
    name: "unknown layer",
    code: "UNKNOWN_LAYER",
    query: EXPLAIN(', layer: "layer5"'),
  },
  {
    name: "layer without a 4-D output",
    code: "UNSUPPORTED_LAYER",
    query: EXPLAIN(', layer: "avg_pool"'),
  },
  {
    name: "an empty layer is not the default layer in disguise",
    code: "BAD_USER_INPUT",
    query: EXPLAIN(', layer: ""'),
    says: "layer is empty",
  },
  {
    name: "a number too large for a float says what it is",
    code: "BAD_USER_INPUT",
    query:
      `query($b: String) { explain(image: { base64: $b }, method: "occlusion", options: { occlusion: { fill: 1e400 } }) { label } }`,
    says: "got Infinity",
  },
  {
    name: "a variable of the wrong type",
    code: "BAD_USER_INPUT",
    query:
      `query($t: Int) { predict(image: { base64: "x" }, top: $t) { label } }`,
    variables: () => ({ t: "five" }),
  },
  {
    name: "an operation the schema does not run",
    code: "GRAPHQL_VALIDATION_FAILED",
    query: `subscription { nope }`,
  },
  {
    name: "a syntax error",
    code: "GRAPHQL_PARSE_FAILED",
    query: `{ predict(`,
  },
  {
    name: "unknown colormap",
    code: "UNKNOWN_COLORMAP",
    query: EXPLAIN(', render: { colormap: "nope" }'),
    says: '"jet"',
  },
  {
    name: "random bytes",
    code: "INVALID_IMAGE",
    query: EXPLAIN(""),
    variables: () => ({ b: encodeBase64(noise(1000)) }),
  },
  {
    name: "invalid base64",
    code: "INVALID_IMAGE",
    query: EXPLAIN(""),
    variables: () => ({ b: "not base64 at all!" }),
  },
  {
    name: "PNG declaring 100000×100000 pixels",
    code: "IMAGE_TOO_LARGE",
    query: EXPLAIN(""),
    variables: () => ({ b: encodeBase64(pngHeader(100_000, 100_000)) }),
  },
  {
    name: "empty file upload",
    code: "INVALID_IMAGE",
    query:
      `query($f: File!) { explain(image: { file: $f }) { label overlay } }`,
    file: () => Promise.resolve(new File([], "empty.png")),
    says: "empty",
  },
  {
    name: "truncated PNG",
    code: "INVALID_IMAGE",
    query: EXPLAIN(""),
    variables: () => ({ b: truncated[0] }),
  },
  {
    name: "truncated JPEG",
    code: "INVALID_IMAGE",
    query: EXPLAIN(""),
    variables: () => ({ b: truncated[1] }),
  },
  {
    name: "a 2 MB query string",
    code: "QUERY_TOO_COMPLEX",
    query: HUGE_QUERY,
    says: "more than 1000 tokens",
  },
  {
    name: "200 aliases of explain",
    code: "QUERY_TOO_COMPLEX",
    query: aliases(200),
  },
  {
    name: "16 aliases of explain",
    code: "QUERY_TOO_COMPLEX",
    query: aliases(16),
    says: "16 aliases, the limit is 15",
  },
  {
    name: "deeply nested query",
    code: "QUERY_TOO_COMPLEX",
    query: deep(100),
    says: "depth 103, the limit is 20",
  },
];

async function runMatrix(transport: Transport, base: string): Promise<void> {
  const b64 = await chelseaBase64();
  for (const c of CASES) {
    const body = await send(
      transport,
      c.file
        ? uploadRequest(c.query, "f", await c.file(), { base })
        : graphqlRequest(c.query, c.variables?.(b64) ?? { b: b64 }, { base }),
    );
    const error = body.errors?.[0];
    assert.equal(
      error?.extensions?.code,
      c.code,
      `${c.name}: ${error?.message}`,
    );
    if (c.says) assert.ok(error!.message.includes(c.says), error!.message);
  }
  // The server still answers a good query.
  const body = await send(
    transport,
    graphqlRequest(
      `query($b: String!) { predict(image: { base64: $b }, top: 1) { label } }`,
      { b: b64 },
      { base },
    ),
  );
  assert.deepEqual(body, { data: { predict: [{ label: "Egyptian_cat" }] } });
}

Deno.test("every error code, in-process", async () => {
  await runMatrix((await sharedApp()).fetch, "http://localhost");
});

Deno.test("every error code, over HTTP", async () => {
  await withServer(await sharedApp(), (base) => runMatrix(fetch, base));
});

Deno.test("an oversized upload is IMAGE_TOO_LARGE, with its size and the limit", async () => {
  // That it is refused unread: tests/schema/image_input_test.ts.
  const app = await appWith({ limits: { maxImageBytes: 1000 } });
  const file = new File([noise(2000)], "big.png", { type: "image/png" });
  const body = await send(
    app.fetch,
    uploadRequest(
      `query($f: File!) { predict(image: { file: $f }) { label } }`,
      "f",
      file,
    ),
  );
  assert.equal(body.errors?.[0].extensions?.code, "IMAGE_TOO_LARGE");
  assert.equal(
    body.errors![0].message,
    "Image is too large: 2000 bytes, the limit is 1000",
  );
  assert.equal(body.errors![0].extensions?.limit, 1000);
});

Deno.test("too many methods is BAD_USER_INPUT", async () => {
  const app = await appWith({ limits: { maxMethods: 1 } });
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String) { explainMany(image: { base64: $b }, methods: ["gradcam", "activation"]) { label } }`,
      { b: "" },
    ),
  );
  assert.equal(body.errors?.[0].extensions?.code, "BAD_USER_INPUT");
  assert.match(body.errors![0].message, /limit is 1/);
});

Deno.test("MODEL_NOT_READY while loading; explainers still answer", async () => {
  const registry = createRegistry();
  const app = createApp({
    service: pendingService(registry).service,
    registry,
  });
  for (
    const query of [
      "{ model { backend } }",
      `{ predict(image: { base64: "AAAA" }) { label } }`,
      `{ explain(image: { base64: "AAAA" }) { label } }`,
      `{ explainMany(image: { base64: "AAAA" }, methods: ["gradcam"]) { label } }`,
    ]
  ) {
    const body = await send(app.fetch, graphqlRequest(query));
    assert.equal(body.errors?.[0].extensions?.code, "MODEL_NOT_READY", query);
  }
  const body = await send(app.fetch, graphqlRequest("{ explainers { name } }"));
  assert.equal(body.errors, undefined);
});

Deno.test("MODEL_LOAD_FAILED after a failed load, with the reason", async () => {
  const registry = createRegistry();
  const { service, reject } = pendingService(registry);
  reject(new Error("Cannot read model.json"));
  await service.ready().catch(() => {});
  const app = createApp({ service, registry });
  const body = await send(app.fetch, graphqlRequest("{ model { backend } }"));
  assert.equal(body.errors?.[0].extensions?.code, "MODEL_LOAD_FAILED");
  assert.match(body.errors![0].message, /Cannot read model\.json/);
});

Deno.test("unexpected errors are masked for clients and logged", async () => {
  const broken = brokenExplainer;
  const logged: { level: string; msg: string }[] = [];
  const log: Logger = (level, msg) => logged.push({ level, msg });
  const app = await appWith({ registry: createRegistry([broken]), log });
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String) { explain(image: { base64: $b }, method: "broken") { label map { width } } }`,
      { b: await chelseaBase64() },
    ),
  );
  const error = body.errors?.[0];
  assert.equal(error?.extensions?.code, "INTERNAL_SERVER_ERROR");
  assert.ok(!error!.message.includes("secret"), error!.message);
  assert.ok(
    logged.some((l) => l.level === "error" && l.msg.includes("secret")),
    JSON.stringify(logged),
  );
});

Deno.test("a PNG declaring 100000×100000 pixels fails fast, with little memory", async () => {
  const app = await sharedApp();
  const b = encodeBase64(pngHeader(100_000, 100_000));
  const query =
    `query($b: String) { explain(image: { base64: $b }) { label } }`;
  await send(app.fetch, graphqlRequest(query, { b })); // warm
  const rss = Deno.memoryUsage().rss;
  const start = performance.now();
  const body = await send(app.fetch, graphqlRequest(query, { b }));
  const ms = performance.now() - start;
  const grew = (Deno.memoryUsage().rss - rss) / 2 ** 20;
  assert.equal(body.errors?.[0].extensions?.code, "IMAGE_TOO_LARGE");
  assert.match(body.errors![0].message, /10000000000/);
  // The file is its 33-byte header: nothing else could have been decoded,
  // and the pixels it declares would take 30 GB and minutes. The bounds
  // are generous for a loaded 2-core machine and its garbage collector,
  // and still orders of magnitude below what decoding would cost.
  assert.ok(ms < 5000, `${ms} ms`);
  assert.ok(grew < 200, `RSS grew ${grew} MB`);
});

Deno.test("base64 longer than maxBase64Chars is IMAGE_TOO_LARGE before decoding", async () => {
  const app = await appWith({ limits: { maxBase64Chars: 1000 } });
  const body = await send(
    app.fetch,
    graphqlRequest(
      `query($b: String) { predict(image: { base64: $b }) { label } }`,
      { b: await chelseaBase64() },
    ),
  );
  assert.equal(body.errors?.[0].extensions?.code, "IMAGE_TOO_LARGE");
  assert.match(body.errors![0].message, /characters, the limit is 1000/);
});

Deno.test("the alias limit holds on its own, and 15 aliases pass", async () => {
  const app = await appWith({ limits: { maxTokens: 100_000 } });
  const many = await send(app.fetch, graphqlRequest(aliases(200), { b: "" }));
  assert.equal(many.errors?.[0].extensions?.code, "QUERY_TOO_COMPLEX");
  assert.equal(
    many.errors?.[0].message,
    "Query is too complex: 200 aliases, the limit is 15",
  );
  assert.equal(many.data, undefined);
  const fifteen = `{ ${
    Array.from({ length: 15 }, (_, i) => `a${i}: explainers { name }`).join(" ")
  } }`;
  const ok = await send(app.fetch, graphqlRequest(fifteen));
  assert.equal(ok.errors, undefined);
});

Deno.test("every client error code reaches GraphQL clients unchanged, retryable ones with 503", async () => {
  const { clientError, ERROR_CODES, RETRYABLE_CODES } = await import(
    "../../lib/errors.ts"
  );
  // A method whose options check throws the code it is given: the error
  // travels from below the API through the one mapping.
  const thrower = {
    name: "thrower",
    description: "Throws the client error its options name",
    needsGradients: false,
    parseParams(raw: unknown) {
      const { code } = raw as { code: (typeof ERROR_CODES)[number] };
      throw clientError(code, `thrown ${code}`, { limit: 7 });
    },
    explain: () => ({ width: 1, height: 1, values: new Float32Array(1) }),
  };
  const app = await appWith({ registry: createRegistry([thrower]) });
  const b = await chelseaBase64();
  for (const code of ERROR_CODES) {
    const response = await app.fetch(graphqlRequest(
      `query($b: String!, $o: JSON) { explain(image: { base64: $b }, method: "thrower", options: $o) { label } }`,
      { b, o: { thrower: { code } } },
    ));
    const body: GraphQLBody = await response.json();
    const error = body.errors?.[0];
    assert.equal(error?.extensions?.code, code);
    assert.equal(error?.message, `thrown ${code}`);
    assert.equal(error?.extensions?.limit, 7, code);
    // The transport hint is for the HTTP answer, not the client.
    assert.equal(error?.extensions?.http, undefined, code);
    if (RETRYABLE_CODES.has(code)) {
      assert.equal(response.status, 503, code);
      assert.equal(response.headers.get("retry-after"), "1", code);
    } else {
      assert.notEqual(response.status, 503, code);
    }
  }
});
