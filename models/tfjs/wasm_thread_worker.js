// A module worker that runs one of Emscripten's classic pthread workers.
// Deno only starts module workers, and Emscripten's worker script expects a
// classic one (`importScripts`, global `var`s), so this shim receives the
// script's text as its first message, provides a synchronous `importScripts`
// for the main glue code (fetched ahead of the "load" message that needs
// it), and evaluates both in the global scope.
const pending = [];
let deliver = null;
self.onmessage = (event) => {
  if (deliver) deliver(event);
  else pending.push(event);
};

const first = await new Promise((resolve) => {
  deliver = (event) => {
    deliver = null;
    resolve(event);
  };
  if (pending.length) deliver(pending.shift());
});

// Emscripten would take the Node.js path if it saw `process`.
Object.defineProperty(globalThis, "process", {
  value: undefined,
  configurable: true,
  writable: true,
});
const scripts = new Map();
globalThis.importScripts = (url) => {
  const code = scripts.get(url);
  if (code === undefined) throw new Error(`importScripts: ${url} not fetched`);
  (0, eval)(code);
};
const createObjectURL = URL.createObjectURL.bind(URL);
let lastBlobText = null;
URL.createObjectURL = (blob) => {
  const url = createObjectURL(blob);
  if (lastBlobText !== null) scripts.set(url, lastBlobText);
  return url;
};

(0, eval)(first.data.lumenWorkerScript);
const handle = self.onmessage;

let chain = Promise.resolve();
const run = (event) => {
  chain = chain.then(async () => {
    const blob = event.data?.cmd === "load" ? event.data.urlOrBlob : null;
    if (blob && typeof blob !== "string") lastBlobText = await blob.text();
    else if (typeof blob === "string") {
      scripts.set(blob, await (await fetch(blob)).text());
    }
    handle.call(self, event);
  });
};
self.onmessage = run;
for (const event of pending.splice(0)) run(event);
