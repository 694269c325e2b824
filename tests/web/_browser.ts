/**
 * Headless Chromium for the browser tests: Debian's `chromium` driven by
 * playwright-core, with a fresh profile and no network of its own, and the
 * web page bundled from source into a temporary folder.
 *
 * @module
 */
import type { BrowserContext, Page } from "playwright-core";
import { isCi } from "../_ci.ts";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a quiet, sandbox-free, network-free headless Chromium. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Whether the browser tests can run: Chromium is installed. Under CI (`CI`
 * is true or 1) a missing Chromium is an error rather than a skip.
 */
export function chromiumStatus(): { run: boolean; reason: string } {
  let installed = false;
  try {
    installed = Deno.statSync(CHROMIUM).isFile;
  } catch {
    installed = false;
  }
  if (installed) return { run: true, reason: "" };
  const reason = `${CHROMIUM} is missing: apt-get install -y chromium`;
  if (isCi()) {
    throw new Error(`Browser tests cannot run under CI: ${reason}`);
  }
  console.warn(`Skipping the browser tests: ${reason}`);
  return { run: false, reason };
}

/**
 * Launches Chromium with a fresh profile (a temporary `--user-data-dir`,
 * which playwright takes as `launchPersistentContext`'s first argument).
 * `close()` also removes the profile.
 */
export async function launchChromium(
  options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  // playwright-core's bundled is-wsl probes /proc/sys/fs/binfmt_misc at
  // import, a path Deno only lets --allow-all read. Its test switch makes
  // the probe lazy; the result only matters for opening URLs in a desktop
  // browser, which the tests never do.
  Deno.env.set("__IS_WSL_TEST__", "1");
  const { chromium } = await import("playwright-core");
  const profile = await Deno.makeTempDir({ prefix: "lumen-chromium-" });
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS],
      headless: true,
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    });
    return {
      context,
      close: async () => {
        await context.close();
        await Deno.remove(profile, { recursive: true });
      },
    };
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw error;
  }
}

/**
 * Bundles the page from source into a new temporary folder with the exact
 * command of `deno task build:web` (read from deno.json), only the output
 * path changed. Returns the folder.
 */
export async function buildWebBundle(): Promise<string> {
  const root = new URL("../../", import.meta.url);
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  );
  const command: string = config.tasks["build:web"].command;
  const dir = await Deno.makeTempDir({ prefix: "lumen-web-" });
  const args = command.split(/\s+/).slice(1).map((arg) =>
    arg.startsWith("--output=") ? `--output=${dir}/app.js` : arg
  );
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `deno ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return dir;
}

/** A server for the page: the app, with the page from a fresh bundle. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** Stops the server and removes the bundle. */
  close(): Promise<void>;
}

/**
 * Serves `app` on a free loopback port, with the page bundled from source
 * ({@linkcode buildWebBundle}) in place of `web/dist/`.
 */
export async function servePage(
  app: { fetch: (request: Request) => Response | Promise<Response> },
): Promise<PageServer> {
  const { createWebHandler } = await import("../../web/mod.ts");
  const dist = await buildWebBundle();
  const web = createWebHandler({ distDir: dist });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => web(request) ?? app.fetch(request),
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    close: async () => {
      await server.shutdown();
      await Deno.remove(dist, { recursive: true });
    },
  };
}

/**
 * An app that forwards every request to the server at `base` (a main.ts
 * process), streams included, so that {@linkcode servePage} can serve a
 * fresh bundle of the page in front of it. A request the browser drops is
 * dropped upstream too.
 */
export function proxyTo(base: string): {
  fetch: (request: Request) => Promise<Response>;
} {
  return {
    fetch(request) {
      const url = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.delete("host");
      return fetch(new URL(url.pathname + url.search, base), {
        method: request.method,
        headers,
        body: request.body,
        signal: request.signal,
        redirect: "manual",
      });
    },
  };
}

/** Options of a select whose text is wider than the select shows. */
export function cutOffOptions(page: Page, selector: string): Promise<string[]> {
  return page.$eval(selector, (element) => {
    const select = element as HTMLSelectElement;
    const style = getComputedStyle(select);
    const context = document.createElement("canvas").getContext("2d")!;
    context.font = style.font;
    // Chromium's drop-down arrow takes about 20 px of the content box.
    const room = select.clientWidth - parseFloat(style.paddingLeft) -
      parseFloat(style.paddingRight) - 24;
    return [...select.options]
      .map((o) => ({ text: o.text, width: context.measureText(o.text).width }))
      .filter((o) => o.width > room)
      .map((o) => `${o.text} (${Math.round(o.width)} px > ${room} px)`);
  });
}

/**
 * Refuses every request of `context` that leaves `base` (data: and blob:
 * URLs aside); returns the list of those refused, for the test to check.
 */
export async function closeNetwork(
  context: BrowserContext,
  base: string,
): Promise<string[]> {
  const outside: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin === base || ["data:", "blob:"].includes(url.protocol)) {
      return route.continue();
    }
    outside.push(url.href);
    return route.abort("internetdisconnected");
  });
  return outside;
}
