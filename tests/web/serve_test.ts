import assert from "node:assert/strict";
import { loadingApp } from "../_service.ts";
import { createApp, CSRF_HEADERS } from "../../server/mod.ts";
import { DEFAULT_QUERY } from "../../schema/default_query.ts";
import {
  CONTENT_SECURITY_POLICY,
  createWebHandler,
  GRAPHIQL_HEADERS,
  graphiqlOptions,
  isWebPath,
  ORIGIN_MARK,
  renderOfflineGraphiQL,
} from "../../web/mod.ts";

async function withDist<T>(
  files: Record<string, string>,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "lumen-dist-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function get(path: string, method = "GET"): Request {
  return new Request(`http://localhost${path}`, { method });
}

Deno.test("web: the page, its style and its bundle, from this server only", async () => {
  await withDist({ "app.js": "console.log('bundle');" }, async (dir) => {
    const web = createWebHandler({ distDir: dir });
    const page = await web(get("/"))!;
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.equal(
      page.headers.get("content-security-policy"),
      CONTENT_SECURITY_POLICY,
    );
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/assets\/app\.js">/);
    assert.doesNotMatch(html, /https?:\/\//, "no absolute URL in the page");
    const script = await web(get("/assets/app.js"))!;
    assert.match(script.headers.get("content-type")!, /^text\/javascript/);
    assert.equal(await script.text(), "console.log('bundle');");
    const style = await web(get("/assets/app.css"))!;
    assert.match(style.headers.get("content-type")!, /^text\/css/);
    assert.doesNotMatch(await style.text(), /url\(|@import/);
    const head = await web(get("/", "HEAD"))!;
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  });
});

Deno.test("web: CSP allows only this origin, plus inline images", () => {
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
  assert.match(CONTENT_SECURITY_POLICY, /img-src 'self' data: blob:/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe|https?:/);
});

Deno.test("web: without a bundle the page says how to build it", async () => {
  await withDist({}, async (dir) => {
    const web = createWebHandler({ distDir: dir });
    const page = await web(get("/"))!;
    assert.equal(page.status, 503);
    assert.match(await page.text(), /deno task build:web/);
    assert.equal((await web(get("/assets/app.js"))!).status, 404);
  });
});

Deno.test("web: other paths and methods", async () => {
  const web = createWebHandler();
  assert.equal(web(get("/graphql")), null);
  assert.equal(web(get("/health")), null);
  assert.equal((await web(get("/assets/other.js"))!).status, 404);
  const post = await web(get("/", "POST"))!;
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.equal(isWebPath("/"), true);
  assert.equal(isWebPath("/metrics"), false);
});

Deno.test("web: createApp serves the page at /", async () => {
  const app = createApp(loadingApp());
  const response = await app.fetch(get("/"));
  // 200 once `deno task build:web` has run, 503 (with the hint) before.
  assert.ok([200, 503].includes(response.status), String(response.status));
  assert.match(await response.text(), /Lumen/);
});

Deno.test("web: GraphiQL at /graphql has its assets inline, no CDN", async () => {
  const app = createApp(loadingApp());
  const response = await app.fetch(
    new Request("http://localhost/graphql", {
      headers: { accept: "text/html" },
    }),
  );
  assert.equal(response.status, 200);
  const html = await response.text();
  assert.match(html, /YogaGraphiQL\.renderYogaGraphiQL/);
  assert.doesNotMatch(html, /<script[^>]+src=/);
  assert.doesNotMatch(html, /<link[^>]+href="?https?:/);
  assert.doesNotMatch(html, /unpkg\.com|jsdelivr|cdnjs/);
  assert.match(html, /"title":"Lumen"/);
});

Deno.test("web: the offline GraphiQL page follows its options", async () => {
  assert.match(
    await renderOfflineGraphiQL({ title: "A" }),
    /<title>A<\/title>/,
  );
  assert.match(
    await renderOfflineGraphiQL({ title: "B" }),
    /<title>B<\/title>/,
  );
});

Deno.test("web: GraphiQL sends the CSRF header and names its own origin", async () => {
  const html = await renderOfflineGraphiQL({
    defaultQuery: `# curl ${ORIGIN_MARK}/graphql`,
    additionalHeaders: { "x-extra": "1" },
  });
  assert.ok(
    html.includes(
      '"additionalHeaders":{"x-graphql-yoga-csrf":"1","x-extra":"1"}',
    ),
  );
  assert.ok(html.includes('"# curl " + location.origin + "/graphql"'));
  assert.ok(!html.includes(ORIGIN_MARK));
  assert.deepEqual(graphiqlOptions({}).additionalHeaders, GRAPHIQL_HEADERS);
  assert.ok(
    Object.keys(GRAPHIQL_HEADERS).every((h) => CSRF_HEADERS.includes(h)),
  );
  assert.ok(DEFAULT_QUERY.includes(`curl ${ORIGIN_MARK}/graphql`));
  assert.ok(!DEFAULT_QUERY.includes("localhost"));
});
