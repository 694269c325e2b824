import assert from "node:assert/strict";
import { loadingApp } from "../_service.ts";
import { createApp, serveHttp } from "../../server/mod.ts";

const encoder = new TextEncoder();

/** A handler that reads the body, then waits until the test releases it. */
function slowHandler() {
  const release = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<number>();
  const bodyRead = Promise.withResolvers<number>();
  return {
    release: () => release.resolve(),
    aborted: aborted.promise,
    bodyRead: bodyRead.promise,
    async handler(request: Request): Promise<Response> {
      request.signal.addEventListener(
        "abort",
        () => aborted.resolve(performance.now()),
      );
      const body = await request.text();
      if (body === "quick") return new Response("quick");
      bodyRead.resolve(body.length);
      await release.promise;
      return new Response("done");
    },
  };
}

/** Posts `size` bytes, then disconnects once the handler has read them. */
async function postAndDisconnect(
  port: number,
  size: number,
  bodyRead: Promise<number>,
): Promise<void> {
  const client = new AbortController();
  const response = fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    body: "x".repeat(size),
    signal: client.signal,
  }).catch((error) => error);
  assert.equal(await bodyRead, size);
  client.abort();
  assert.equal((await response).name, "AbortError");
}

Deno.test("serveHttp aborts request.signal when a client with a large body disconnects", async () => {
  const slow = slowHandler();
  const server = await serveHttp(slow.handler, {
    hostname: "127.0.0.1",
    port: 0,
  });
  try {
    await postAndDisconnect(
      server.addr.port,
      200_000,
      slow.bodyRead,
    );
    // Deno.serve never aborts here (the canary below); 10 s is generous
    // for a loaded machine.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const at = await Promise.race([
      slow.aborted,
      new Promise<number>((resolve) => {
        timer = setTimeout(() => resolve(-1), 10_000);
      }),
    ]);
    clearTimeout(timer);
    assert.ok(at > 0, "request.signal did not abort within 10 s");
  } finally {
    slow.release();
    await server.shutdown();
  }
});

Deno.test("canary: Deno.serve (2.9.6) misses that disconnect, hence serveHttp", async () => {
  const slow = slowHandler();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    slow.handler,
  );
  try {
    await postAndDisconnect(server.addr.port, 200_000, slow.bodyRead);
    const aborted = await Promise.race([
      slow.aborted.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500)),
    ]);
    assert.equal(
      aborted,
      false,
      "Deno.serve now reports this disconnect: server/serve.ts could go back to Deno.serve",
    );
  } finally {
    slow.release();
    await server.shutdown();
  }
});

Deno.test("serveHttp streams responses as they are produced", async () => {
  // The rest of the body is made only once the client has read the first
  // part: a server that buffered whole responses would never send it.
  const firstRead = Promise.withResolvers<void>();
  const server = await serveHttp(() => {
    let n = 0;
    return Promise.resolve(
      new Response(
        new ReadableStream({
          async pull(controller) {
            if (n === 1) await firstRead.promise;
            if (n++ < 3) controller.enqueue(encoder.encode(`part ${n}\n`));
            else controller.close();
          },
        }),
        { headers: { "x-test": "1" } },
      ),
    );
  }, { hostname: "127.0.0.1", port: 0 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(response.headers.get("x-test"), "1");
    const reader = response.body!.getReader();
    const first = await Promise.race([
      reader.read(),
      new Promise<"buffered">((resolve) => {
        timer = setTimeout(() => resolve("buffered"), 10_000);
      }),
    ]);
    assert.notEqual(first, "buffered", "the first part never came alone");
    assert.equal(
      new TextDecoder().decode((first as { value: Uint8Array }).value),
      "part 1\n",
    );
    firstRead.resolve();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    assert.equal(rest, "part 2\npart 3\n");
  } finally {
    clearTimeout(timer);
    firstRead.resolve();
    await server.shutdown();
  }
});

Deno.test("shutdown closes idle connections at once and busy ones after their response", async () => {
  const slow = slowHandler();
  const server = await serveHttp(slow.handler, {
    hostname: "127.0.0.1",
    port: 0,
  });
  const address = { hostname: "127.0.0.1", port: server.addr.port };
  // Two idle connections: a keep-alive one left by a finished request, and
  // one that never sent a request (Deno's node:http alone keeps that one
  // open for minutes).
  const used = await Deno.connect(address);
  await used.write(encoder.encode(
    "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nquick",
  ));
  const first = await readResponse(used);
  assert.equal(first.status, 200);
  assert.doesNotMatch(first.text, /connection: close/i);
  const fresh = await Deno.connect(address);
  const busy = fetch(`http://127.0.0.1:${server.addr.port}/`, {
    method: "POST",
    body: "b",
  });
  await slow.bodyRead;
  let finished = false;
  const shut = server.shutdown().then(() => finished = true);
  /** Resolves with null once the server has closed the connection. */
  const ended = (conn: Deno.Conn) =>
    conn.read(new Uint8Array(16)).catch(() => null);
  const idle = Promise.all([ended(used), ended(fresh)]);
  // The busy request is still held by the test, so the idle connections
  // can only have been closed by the shutdown itself. 5 s is generous for
  // an immediate close, far below the minutes an unclosed one stays open.
  const timer = Promise.withResolvers<"open">();
  const timeout = setTimeout(() => timer.resolve("open"), 5000);
  const idleEnd = await Promise.race([idle, timer.promise]);
  clearTimeout(timeout);
  assert.deepEqual(idleEnd, [null, null], "idle connections closed at once");
  assert.equal(finished, false, "waits for the busy request");
  slow.release();
  const response = await busy;
  assert.equal(await response.text(), "done");
  assert.equal(response.headers.get("connection"), "close");
  await shut;
  assert.equal(finished, true);
  used.close();
  fresh.close();
});

/** Reads one HTTP response from a raw connection: status line and body. */
async function readResponse(
  conn: Deno.Conn,
): Promise<{ status: number; text: string }> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  let text = "";
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      n = null;
    }
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    text = new TextDecoder().decode(
      new Uint8Array(chunks.flatMap((c) => [...c])),
    );
    const head = text.indexOf("\r\n\r\n");
    if (head < 0) continue;
    const length = /content-length: (\d+)/i.exec(text.slice(0, head));
    if (length && text.length >= head + 4 + Number(length[1])) break;
    if (/transfer-encoding: chunked/i.test(text.slice(0, head))) {
      if (text.endsWith("\r\n0\r\n\r\n")) break;
    }
  }
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0);
  return { status, text };
}

Deno.test("a Content-Length over the limit is refused (413) before the body is sent", async () => {
  const app = createApp({
    ...loadingApp(),
    limits: { maxRequestBytes: 64 * 1024 },
  });
  const server = await serveHttp(app.fetch, { hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  try {
    // Declares 100 MB but sends 10 bytes: an answer at all (413, not the
    // body timeout's 408) shows it did not wait for the rest.
    await conn.write(encoder.encode(
      "POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n" +
        "Content-Length: 100000000\r\n\r\n0123456789",
    ));
    const { status, text } = await readResponse(conn);
    assert.equal(status, 413, text);
    assert.match(text, /REQUEST_ENTITY_TOO_LARGE/);
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("a chunked body is refused (413) once it passes the limit, unread beyond", async () => {
  const limit = 64 * 1024;
  const app = createApp({
    ...loadingApp(),
    limits: { maxRequestBytes: limit },
  });
  const server = await serveHttp(app.fetch, { hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  try {
    await conn.write(encoder.encode(
      "POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n",
    ));
    let answered = false;
    const response = readResponse(conn).then((r) => {
      answered = true;
      return r;
    });
    const chunk = encoder.encode(
      `4000\r\n${'{"query": "'.padEnd(0x4000, " ")}\r\n`,
    );
    let sent = 0;
    const maxSend = 64 * 1024 * 1024;
    try {
      while (!answered && sent < maxSend) {
        await conn.write(chunk);
        sent += 0x4000;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } catch {
      // The server closed the connection after answering.
    }
    const { status, text } = await response;
    assert.equal(status, 413, text);
    // Answered soon after the limit (64 KiB), not after the 64 MiB.
    assert.ok(sent < 1024 * 1024, `sent ${sent} bytes before the answer`);
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("a Node client that forgets the CSRF header on an upload reads the 403, not a broken pipe", async () => {
  const app = createApp(loadingApp());
  const server = await serveHttp(app.fetch, { hostname: "127.0.0.1", port: 0 });
  try {
    // Node's fetch (undici) with a 4 MB multipart body: the answer comes
    // after the body is read and discarded, so the client sees it.
    const script = `
      const form = new FormData();
      form.set("operations", JSON.stringify({ query: "{ explainers { name } }" }));
      form.set("map", "{}");
      form.set("0", new Blob([new Uint8Array(4 * 1024 * 1024)]), "big.png");
      const response = await fetch("http://127.0.0.1:${server.addr.port}/graphql", { method: "POST", body: form });
      console.log(JSON.stringify({ status: response.status, body: await response.json() }));`;
    const output = await new Deno.Command("node", {
      args: ["--input-type=module", "-e", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const { status, body } = JSON.parse(
      new TextDecoder().decode(output.stdout),
    );
    assert.equal(status, 403);
    assert.equal(body.errors[0].extensions.code, "CSRF_HEADER_REQUIRED");
    assert.match(body.errors[0].message, /x-graphql-yoga-csrf/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a request body that takes longer than bodyTimeoutMs is answered 408, not held forever", async () => {
  const app = createApp(loadingApp());
  const server = await serveHttp(app.fetch, {
    hostname: "127.0.0.1",
    port: 0,
    bodyTimeoutMs: 300,
  });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  try {
    // Declares 1000 bytes, sends 10, then nothing.
    await conn.write(encoder.encode(
      "POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n" +
        "Content-Length: 1000\r\n\r\n0123456789",
    ));
    const { status, text } = await readResponse(conn);
    assert.equal(status, 408, text);
    assert.match(text, /"code":"TIMEOUT"/);
    assert.match(text, /0\.3 s to arrive/);
  } finally {
    conn.close();
    await server.shutdown();
  }
});
