import assert from "node:assert/strict";
import { GraphQLError } from "graphql";
import {
  fetchImageUrl,
  type FetchImageUrlOptions,
} from "../../schema/url_input.ts";
import { fixtureBytes } from "../_shared.ts";
import { appWith, graphqlRequest, send } from "./_helpers.ts";

/** A loopback image server: /cat.png, redirects, a big body, a slow one. */
async function withImageServer(
  fn: (base: string, port: number) => Promise<void>,
): Promise<void> {
  const cat = new Uint8Array(await fixtureBytes("chelsea.png"));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
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
    await fn(`http://127.0.0.1:${server.addr.port}`, server.addr.port);
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
    assert.ok(error instanceof GraphQLError, String(error));
    assert.equal(error.extensions.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("fetchImageUrl refuses bad schemes, hosts and addresses without connecting", async () => {
  const none = { maxBytes: 1000 };
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

Deno.test("ImageInput.url end to end, when enabled", async () => {
  const app = await appWith({
    urlInputs: { allowHosts: ["127.0.0.1"], allowPrivate: true },
  });
  await withImageServer(async (base) => {
    const body = await send(
      app.fetch,
      graphqlRequest(
        `query($u: String!) { predict(image: { url: $u }, top: 1) { label } }`,
        { u: `${base}/to-cat` },
      ),
    );
    assert.deepEqual(body, { data: { predict: [{ label: "Egyptian_cat" }] } });
  });
});
