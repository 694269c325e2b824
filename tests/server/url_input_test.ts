import assert from "node:assert/strict";
import { ClientError } from "../../lib/errors.ts";
import {
  fetchImageUrl,
  type FetchImageUrlOptions,
} from "../../server/url_input.ts";
import { fixtureBytes } from "../_shared.ts";
import { appWith, graphqlRequest, send } from "../schema/_helpers.ts";

/** A loopback image server: /cat.png, redirects, a big body, a slow one. */
async function withImageServer(
  fn: (base: string, port: number, hits: () => number) => Promise<void>,
): Promise<void> {
  const cat = new Uint8Array(await fixtureBytes("chelsea.png"));
  let count = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      count++;
      const { pathname, searchParams } = new URL(request.url);
      const redirect = (location: string) =>
        new Response(null, { status: 302, headers: { location } });
      switch (pathname) {
        case "/cat.png":
          return new Response(cat, {
            headers: { "content-type": "image/png" },
          });
        case "/to-cat":
          return redirect("/cat.png");
        case "/to":
          return redirect(searchParams.get("url")!);
        case "/loop":
          return redirect("/loop");
        case "/big-declared":
          return new Response(new Uint8Array(5000));
        case "/big-streamed":
          return new Response(
            new ReadableStream({
              start(controller) {
                for (let i = 0; i < 5; i++) {
                  controller.enqueue(new Uint8Array(1000));
                }
                controller.close();
              },
            }),
          );
        case "/slow":
          await new Promise((resolve) => setTimeout(resolve, 400));
          return new Response(cat);
        default:
          return new Response("not found", { status: 404 });
      }
    },
  );
  try {
    await fn(
      `http://127.0.0.1:${server.addr.port}`,
      server.addr.port,
      () => count,
    );
  } finally {
    await server.shutdown();
  }
}

const LOOPBACK: FetchImageUrlOptions = {
  allowHosts: ["127.0.0.1", "localhost"],
  allowPrivate: true,
  maxBytes: 1_000_000,
};

async function refused(
  promise: Promise<unknown>,
  code: string,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ClientError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A fetch that must never be called: it counts calls and fails. */
function forbiddenFetch(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input) => {
      calls.push(String(input));
      return Promise.reject(new Error("no connection may be attempted"));
    },
  };
}

Deno.test("fetchImageUrl refuses bad schemes, hosts and addresses without connecting", async () => {
  const forbidden = forbiddenFetch();
  const none = { maxBytes: 1000, fetch: forbidden.fetch };
  await refused(
    fetchImageUrl("ftp://example.com/cat.png", {
      ...none,
      allowHosts: ["example.com"],
    }),
    "BAD_USER_INPUT",
    /scheme "ftp"/,
  );
  await refused(
    fetchImageUrl("file:///etc/passwd", { ...none, allowHosts: [""] }),
    "BAD_USER_INPUT",
    /scheme "file"/,
  );
  await refused(
    fetchImageUrl("https://evil.example/cat.png", {
      ...none,
      allowHosts: ["images.example"],
    }),
    "BAD_USER_INPUT",
    /not allowed: allowed hosts are "images\.example"/,
  );
  await refused(
    fetchImageUrl("not a url", { ...none, allowHosts: [] }),
    "BAD_USER_INPUT",
    /Invalid image URL/,
  );
  for (
    const [url, pattern] of [
      ["http://127.0.0.1/cat.png", /loopback .*--allow-private-urls/],
      ["http://localhost/cat.png", /loopback/],
      ["http://10.0.0.1/cat.png", /private address 10\.0\.0\.1/],
      ["http://[::1]/cat.png", /loopback/],
      ["http://[::ffff:7f00:1]/cat.png", /loopback/],
      ["http://2130706433/cat.png", /loopback address 127\.0\.0\.1/],
    ] as const
  ) {
    const host = new URL(url).hostname;
    await refused(
      fetchImageUrl(url, { ...none, allowHosts: [host, "localhost"] }),
      "BAD_USER_INPUT",
      pattern,
    );
  }
  // Metadata stays refused even with private addresses allowed.
  await refused(
    fetchImageUrl("http://169.254.169.254/latest/meta-data/", {
      ...none,
      allowHosts: ["169.254.169.254"],
      allowPrivate: true,
    }),
    "BAD_USER_INPUT",
    /metadata address/,
  );
  assert.deepEqual(forbidden.calls, []);
});

Deno.test("refused addresses and schemes: no DNS lookup, no connection", async () => {
  const forbidden = forbiddenFetch();
  const lookups: string[] = [];
  const base = {
    maxBytes: 1000,
    fetch: forbidden.fetch,
    resolveHost: (host: string) => {
      lookups.push(host);
      return Promise.reject(new Error("no lookup expected"));
    },
  };
  const cases: [string, boolean, RegExp][] = [
    ["http://127.0.0.1/cat.png", false, /loopback address 127\.0\.0\.1/],
    ["http://localhost:8000/cat.png", false, /loopback/],
    ["http://[::1]/cat.png", false, /loopback/],
    ["http://10.0.0.1/cat.png", false, /private address 10\.0\.0\.1/],
    ["http://[::ffff:10.0.0.1]/cat.png", false, /private/],
    ["http://169.254.169.254/latest/meta-data/", false, /metadata/],
    ["http://169.254.169.254/latest/meta-data/", true, /metadata/],
    ["http://[fd00:ec2::254]/", true, /metadata/],
    ["http://169.254.1.1/", false, /link-local/],
    ["http://0.0.0.0/", true, /unspecified/],
    ["ftp://10.0.0.1/cat.png", true, /scheme "ftp"/],
    ["file:///etc/passwd", true, /scheme "file"/],
    ["data:image/png;base64,iVBORw0KGgo=", true, /scheme "data"/],
    ["javascript:alert(1)", true, /scheme "javascript"/],
    ["gopher://127.0.0.1:70/", true, /scheme "gopher"/],
  ];
  for (const [url, allowPrivate, pattern] of cases) {
    let host = "";
    try {
      host = new URL(url).hostname;
    } catch { /* refused as invalid anyway */ }
    await refused(
      fetchImageUrl(url, { ...base, allowHosts: [host], allowPrivate }),
      "BAD_USER_INPUT",
      pattern,
    );
  }
  assert.deepEqual(forbidden.calls, []);
  assert.deepEqual(lookups, []);
});

Deno.test("a redirect to loopback, private or metadata is refused before it is followed", async () => {
  for (
    const [target, pattern] of [
      ["http://127.0.0.1:9/cat.png", /loopback/],
      ["http://localhost/cat.png", /loopback/],
      ["http://10.0.0.1/cat.png", /private address 10\.0\.0\.1/],
      ["http://169.254.169.254/latest/meta-data/", /metadata/],
    ] as const
  ) {
    const calls: string[] = [];
    // images.test "resolves" to a public address, but nothing is fetched
    // from it: the stub answers the first request with the redirect.
    const options: FetchImageUrlOptions = {
      allowHosts: ["images.test", new URL(target).hostname],
      maxBytes: 1000,
      resolveHost: () => Promise.resolve(["93.184.215.14"]),
      fetch: (input) => {
        calls.push(String(input));
        return Promise.resolve(
          new Response(null, { status: 302, headers: { location: target } }),
        );
      },
    };
    await refused(
      fetchImageUrl("https://images.test/cat.png", options),
      "BAD_USER_INPUT",
      pattern,
    );
    assert.deepEqual(calls, ["https://images.test/cat.png"], target);
  }
});

Deno.test("ImageInput.url refusals through the API, with no connection attempted", async () => {
  const forbidden = forbiddenFetch();
  const app = await appWith({
    urlInputs: {
      allowHosts: ["127.0.0.1", "10.0.0.1", "169.254.169.254", "localhost"],
      fetch: forbidden.fetch,
    },
  });
  for (
    const url of [
      "http://127.0.0.1:8000/cat.png",
      "http://localhost/cat.png",
      "http://10.0.0.1/cat.png",
      "http://169.254.169.254/latest/meta-data/",
      "ftp://10.0.0.1/cat.png",
    ]
  ) {
    const body = await send(
      app.fetch,
      graphqlRequest(
        `query($u: String!) { predict(image: { url: $u }) { label } }`,
        { u: url },
      ),
    );
    assert.equal(body.errors?.[0].extensions?.code, "BAD_USER_INPUT", url);
  }
  assert.deepEqual(forbidden.calls, []);
});

Deno.test("fetchImageUrl checks every address a name resolves to", async () => {
  let fetched = 0;
  const options: FetchImageUrlOptions = {
    allowHosts: ["images.test"],
    maxBytes: 1000,
    fetch: () => {
      fetched++;
      return Promise.resolve(new Response(new Uint8Array([1, 2, 3])));
    },
  };
  await refused(
    fetchImageUrl("https://images.test/a.png", {
      ...options,
      resolveHost: () => Promise.resolve(["93.184.215.14", "192.168.1.5"]),
    }),
    "BAD_USER_INPUT",
    /private address 192\.168\.1\.5/,
  );
  assert.equal(fetched, 0);
  const bytes = await fetchImageUrl("https://images.test/a.png", {
    ...options,
    resolveHost: () => Promise.resolve(["93.184.215.14"]),
  });
  assert.deepEqual([...bytes], [1, 2, 3]);
  await refused(
    fetchImageUrl("https://images.test/a.png", {
      ...options,
      resolveHost: () => Promise.reject(new Error("NXDOMAIN")),
    }),
    "BAD_USER_INPUT",
    /Cannot resolve .*NXDOMAIN/,
  );
});

Deno.test("fetchImageUrl follows checked redirects and enforces limits", async () => {
  const cat = await fixtureBytes("chelsea.png");
  await withImageServer(async (base) => {
    assert.deepEqual(await fetchImageUrl(`${base}/cat.png`, LOOPBACK), cat);
    assert.deepEqual(await fetchImageUrl(`${base}/to-cat`, LOOPBACK), cat);
    await refused(
      fetchImageUrl(`${base}/to?url=http://evil.example/`, LOOPBACK),
      "BAD_USER_INPUT",
      /"evil\.example" is not allowed/,
    );
    await refused(
      fetchImageUrl(`${base}/to?url=http://169.254.169.254/`, {
        ...LOOPBACK,
        allowHosts: [...LOOPBACK.allowHosts, "169.254.169.254"],
      }),
      "BAD_USER_INPUT",
      /metadata/,
    );
    await refused(
      fetchImageUrl(`${base}/to-cat`, { ...LOOPBACK, allowPrivate: false }),
      "BAD_USER_INPUT",
      /loopback/,
    );
    await refused(
      fetchImageUrl(`${base}/loop`, LOOPBACK),
      "BAD_USER_INPUT",
      /more than 3 times/,
    );
    await refused(
      fetchImageUrl(`${base}/missing`, LOOPBACK),
      "BAD_USER_INPUT",
      /HTTP 404/,
    );
    for (const path of ["/big-declared", "/big-streamed"]) {
      await refused(
        fetchImageUrl(`${base}${path}`, { ...LOOPBACK, maxBytes: 2000 }),
        "IMAGE_TOO_LARGE",
        /limit is 2000/,
      );
    }
    await refused(
      fetchImageUrl(`${base}/slow`, { ...LOOPBACK, timeoutMs: 100 }),
      "BAD_USER_INPUT",
      /timed out after 0\.1 s/,
    );
  });
});

Deno.test("ImageInput.url end to end: a loopback host works only when explicitly allowed", async () => {
  const query =
    `query($u: String!) { predict(image: { url: $u }, top: 1) { label } }`;
  const allowed = await appWith({
    urlInputs: { allowHosts: ["127.0.0.1"], allowPrivate: true },
  });
  const hostOnly = await appWith({ urlInputs: { allowHosts: ["127.0.0.1"] } });
  await withImageServer(async (base, _port, hits) => {
    const body = await send(
      allowed.fetch,
      graphqlRequest(query, { u: `${base}/to-cat` }),
    );
    assert.deepEqual(body, { data: { predict: [{ label: "Egyptian_cat" }] } });
    assert.equal(hits(), 2); // the redirect, then the image
    // The host is allowed, but loopback is not: refused before connecting.
    const refusedBody = await send(
      hostOnly.fetch,
      graphqlRequest(query, { u: `${base}/cat.png` }),
    );
    assert.equal(refusedBody.errors?.[0].extensions?.code, "BAD_USER_INPUT");
    assert.match(refusedBody.errors![0].message, /--allow-private-urls/);
    assert.equal(hits(), 2);
  });
});
