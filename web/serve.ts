/**
 * Serves the web page: `/` (the HTML), `/assets/app.css` and
 * `/assets/app.js` (the bundle `deno task build:web` writes to `web/dist/`).
 * Everything comes from this server; the page's Content-Security-Policy
 * forbids loading anything from elsewhere.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Options of {@linkcode createWebHandler}. */
export interface WebOptions {
  /** The page's sources (HTML, CSS). @default this folder's `client/` */
  clientDir?: string;
  /** The bundle's folder. @default this folder's `dist/` */
  distDir?: string;
}

/** Answers requests for the page; null for paths it does not serve. */
export type WebHandler = (request: Request) => Promise<Response> | null;

/** The page's Content-Security-Policy: this origin only, images also inline. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const NOT_BUILT = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Lumen: page not built</title>
<h1>The page is not built yet</h1>
<p>Run <code>deno task build:web</code> (<code>deno task serve</code> does it
before starting), then reload. The API is at <a href="/graphql">/graphql</a>.</p>
</html>
`;

const ROUTES: Record<
  string,
  { dir: "client" | "dist"; file: string; type: string }
> = {
  "/": { dir: "client", file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": {
    dir: "client",
    file: "index.html",
    type: "text/html; charset=utf-8",
  },
  "/assets/app.css": {
    dir: "client",
    file: "style.css",
    type: "text/css; charset=utf-8",
  },
  "/assets/app.js": {
    dir: "dist",
    file: "app.js",
    type: "text/javascript; charset=utf-8",
  },
};

/**
 * Whether `pathname` belongs to the page (so the app routes it here).
 *
 * @example
 * ```ts
 * isWebPath("/assets/app.js"); // true
 * isWebPath("/graphql"); // false
 * ```
 */
export function isWebPath(pathname: string): boolean {
  return pathname in ROUTES || pathname.startsWith("/assets/");
}

async function readOrNull(path: string): Promise<Blob | null> {
  try {
    return new Blob([await Deno.readFile(path)]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Makes the handler. Files are read on each request (they are small, and a
 * rebuilt bundle is served at once); when the bundle is missing, `/`
 * answers 503 with how to build it.
 *
 * @example
 * ```ts
 * const web = createWebHandler();
 * Deno.serve((request) => web(request) ?? new Response("Not found", { status: 404 }));
 * ```
 */
export function createWebHandler(options: WebOptions = {}): WebHandler {
  const dirs = {
    client: options.clientDir ??
      fileURLToPath(new URL("./client/", import.meta.url)),
    dist: options.distDir ?? fileURLToPath(new URL("./dist/", import.meta.url)),
  };
  const path = (dir: "client" | "dist", file: string) =>
    `${dirs[dir].replace(/\/?$/, "/")}${file}`;
  return (request) => {
    const { pathname } = new URL(request.url);
    if (!isWebPath(pathname)) return null;
    return (async () => {
      const route = ROUTES[pathname];
      if (!route) return new Response("Not found", { status: 404 });
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("Method not allowed", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      const headers = new Headers({
        "content-type": route.type,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      });
      if (route.file === "index.html") {
        headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
        headers.set("referrer-policy", "no-referrer");
        if (!await exists(path("dist", "app.js"))) {
          return new Response(NOT_BUILT, { status: 503, headers });
        }
      }
      const body = await readOrNull(path(route.dir, route.file));
      if (body === null) {
        return new Response(`Not found: ${pathname}`, { status: 404 });
      }
      return new Response(request.method === "HEAD" ? null : body, {
        status: 200,
        headers,
      });
    })();
  };
}
