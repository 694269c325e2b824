/**
 * Serves a fetch handler (`app.fetch`) over HTTP/1.1 through `node:http`.
 *
 * Why not `Deno.serve`: in Deno 2.9.6, `request.signal` does not abort when
 * a client disconnects after sending a body larger than a few hundred bytes
 * (the body arrives after the request head; tests/server/serve_test.ts
 * shows both servers side by side). Every explain request carries an image,
 * so with `Deno.serve` a client that gave up would still have its queued
 * work computed. Deno's `node:http` reports the closed socket, which aborts
 * the request's signal here.
 *
 * Also: request bodies are read only as the handler pulls them (so a body
 * limit can refuse a body before it is all read, and the connection is
 * closed after such a refusal); a body that takes longer than
 * `bodyTimeoutMs` to arrive is answered 408 and its connection closed; an
 * answer given before the body was read (e.g. a missing CSRF header) waits
 * until the rest of the body is read and discarded, so a client still
 * sending sees the answer rather than a broken pipe; responses stream with
 * backpressure; `shutdown()` stops accepting, closes idle connections at
 * once and each busy one as soon as its response is sent.
 *
 * @module
 */
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";

/** Options of {@linkcode serveHttp}. */
export interface ServeOptions {
  /** @default "0.0.0.0" */
  hostname?: string;
  /** 0 picks a free port. @default 8000 */
  port?: number;
  /** Called once listening, with the address actually bound. */
  onListen?: (addr: { hostname: string; port: number }) => void;
  /** Time a request body may take to arrive, ms. @default 30_000 */
  bodyTimeoutMs?: number;
  /**
   * Largest body read and discarded to deliver an early answer; a longer
   * one closes the connection instead. @default 32 MiB
   */
  maxRequestBytes?: number;
}

/** A running server. */
export interface HttpServer {
  /** The address bound. */
  readonly addr: { hostname: string; port: number };
  /**
   * Stops accepting connections; idle ones close now, busy ones once their
   * response is sent. Resolves when all are closed.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has closed. */
  readonly finished: Promise<void>;
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      // A header the Fetch API refuses (bad bytes): dropped.
    }
  }
  return headers;
}

function requestUrl(req: IncomingMessage): URL {
  const path = req.url?.startsWith("/") ? req.url : "/";
  try {
    return new URL(path, `http://${req.headers.host ?? "localhost"}`);
  } catch {
    return new URL(path, "http://localhost");
  }
}

/**
 * The request body as a stream that reads from the socket at most 1 MiB
 * ahead of its reader (an image upload arrives while the request is still
 * being routed; reading only when pulled cost ~3 ms per 300 KB request).
 * Cancelling it (e.g. a body over the limit) stops reading and marks the
 * connection to close once the response is sent.
 */
function bodyStream(
  req: IncomingMessage,
  res: ServerResponse,
): { stream: ReadableStream<Uint8Array>; abandon(): void } {
  let done = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        if (done) return;
        controller.enqueue(
          new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
        );
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on("end", () => {
        if (done) return;
        done = true;
        controller.close();
      });
      req.on("error", (error) => {
        if (done) return;
        done = true;
        controller.error(error);
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.pause();
      if (!res.headersSent) res.setHeader("connection", "close");
    },
  }, { highWaterMark: 1024 * 1024, size: (chunk) => chunk.byteLength });
  return {
    stream,
    /** The handler is done with the body: stop queueing it. */
    abandon() {
      done = true;
    },
  };
}

/** Answers 408 (a GraphQL error coded TIMEOUT) and closes the connection. */
function bodyTimeout(res: ServerResponse, timeoutMs: number): void {
  if (!res.headersSent) {
    res.writeHead(408, {
      "content-type": "application/json; charset=utf-8",
      connection: "close",
    });
    res.end(JSON.stringify({
      errors: [{
        message: `The request body took longer than ${
          timeoutMs / 1000
        } s to arrive`,
        extensions: { code: "TIMEOUT", limit: timeoutMs },
      }],
    }));
  }
  res.once("finish", () => res.destroy());
}

/**
 * Reads and drops what is left of a request body, unless its declared
 * length is over `maxBytes` (or it grows past it). Resolves true once it
 * was all read, false when it is too long or the connection ended.
 */
function discardBody(req: IncomingMessage, maxBytes: number): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > maxBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (all: boolean) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      resolve(all);
    };
    const onData = (chunk: Uint8Array) => {
      seen += chunk.byteLength;
      if (seen > maxBytes) {
        req.pause();
        finish(false);
      }
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.complete);
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("close", onClose);
    req.resume();
  });
}

async function writeResponse(
  response: Response,
  res: ServerResponse,
): Promise<void> {
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  res.writeHead(response.status, response.statusText || undefined);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  const gone = () => void reader.cancel().catch(() => {});
  res.on("close", gone);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off("close", gone);
  }
}

/**
 * Serves `handler` until `shutdown()`. The request's signal aborts when the
 * client disconnects before the response is complete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // The server serves its app: serveHttp(app.fetch, { hostname, port })
 * const handler = (request: Request) => Promise.resolve(new Response(`You asked for ${new URL(request.url).pathname}`));
 * const server = await serveHttp(handler, { hostname: "127.0.0.1", port: 0 }); // any free port
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * assert.equal(await response.text(), "You asked for /health");
 * await server.shutdown();
 * ```
 */
export async function serveHttp(
  handler: (request: Request) => Promise<Response>,
  options: ServeOptions = {},
): Promise<HttpServer> {
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  const maxBytes = options.maxRequestBytes ?? 32 * 1024 * 1024;
  /** Open connections and how many responses each still owes. */
  const busy = new Map<Socket, number>();
  let stopping = false;
  const finished = Promise.withResolvers<void>();

  const server = createServer((req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableEnded) {
        controller.abort(
          new DOMException("The client disconnected", "AbortError"),
        );
      }
      const left = (busy.get(socket) ?? 1) - 1;
      busy.set(socket, left);
      if (stopping && left === 0) socket.destroy();
    });
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    let timedOut = false;
    const bodyTimer = hasBody && !req.complete
      ? setTimeout(() => {
        if (req.complete) return;
        timedOut = true;
        controller.abort(
          new DOMException("The request body took too long", "TimeoutError"),
        );
        bodyTimeout(res, bodyTimeoutMs);
      }, bodyTimeoutMs)
      : undefined;
    const stopBodyTimer = () => clearTimeout(bodyTimer);
    req.once("end", stopBodyTimer);
    res.once("close", stopBodyTimer);
    const body = hasBody ? bodyStream(req, res) : null;
    const request = new Request(requestUrl(req), {
      method: req.method,
      headers: toHeaders(req),
      body: body?.stream ?? null,
      signal: controller.signal,
      duplex: "half",
    } as RequestInit);
    handler(request).then(
      async (response) => {
        if (timedOut) return;
        if (body && !req.complete) {
          body.abandon();
          // Answered before the body was all read: read the rest if it is
          // not too large (so the client, still sending, gets the answer),
          // else close the connection after answering.
          if (response.status === 413 || !await discardBody(req, maxBytes)) {
            res.setHeader("connection", "close");
          }
          if (timedOut) return;
        }
        if (stopping) res.setHeader("connection", "close");
        return writeResponse(response, res);
      },
      () => {
        if (timedOut) return;
        if (!res.headersSent) res.writeHead(500);
        res.end();
      },
    );
  });
  server.on("connection", (socket: Socket) => {
    busy.set(socket, 0);
    socket.on("close", () => busy.delete(socket));
  });
  server.on("close", () => finished.resolve());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8000, options.hostname ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const addr = {
    hostname: options.hostname ?? "0.0.0.0",
    port: typeof bound === "object" && bound ? bound.port : 0,
  };
  options.onListen?.(addr);
  return {
    addr,
    finished: finished.promise,
    shutdown() {
      if (!stopping) {
        stopping = true;
        server.close();
        for (const [socket, count] of busy) {
          if (count === 0) socket.destroy();
        }
      }
      return finished.promise;
    },
  };
}
