import assert from "node:assert/strict";
import { clientExtensions } from "../../schema/mod.ts";
import { ClientError } from "../../lib/errors.ts";
import {
  createRequestScope,
  requestIdFrom,
} from "../../server/request_scope.ts";

Deno.test("requestIdFrom echoes a sane x-request-id, else makes one", () => {
  assert.equal(
    requestIdFrom(new Headers({ "x-request-id": "abc-1.2_3:4" })),
    "abc-1.2_3:4",
  );
  for (const bad of ["", "a b", "x".repeat(129), "<script>", "ü"]) {
    const id = requestIdFrom(new Headers({ "x-request-id": bad }));
    assert.match(id, /^[0-9a-f-]{36}$/, bad);
  }
  assert.match(requestIdFrom(new Headers()), /^[0-9a-f-]{36}$/);
});

Deno.test("the time limit aborts with TIMEOUT", async () => {
  const scope = createRequestScope({ timeoutMs: 20 });
  assert.equal(scope.cause, null);
  await new Promise((resolve) =>
    scope.signal.addEventListener("abort", resolve)
  );
  assert.equal(scope.cause, "timeout");
  const error = scope.abortError();
  assert.ok(error instanceof ClientError);
  assert.equal(error.code, "TIMEOUT");
  assert.match(error.message, /longer than 0\.02 s/);
  assert.equal(scope.signal.reason.code, "TIMEOUT");
  scope.dispose();
  assert.equal(scope.cause, "timeout");
});

Deno.test("a client disconnect, shutdown and dispose each have their cause", () => {
  const client = new AbortController();
  const a = createRequestScope({
    requestSignal: client.signal,
    timeoutMs: 60_000,
  });
  client.abort();
  assert.equal(a.cause, "disconnected");
  assert.equal((a.abortError() as DOMException).name, "AbortError");
  a.dispose();

  const cancel = new AbortController();
  const b = createRequestScope({
    cancelSignal: cancel.signal,
    timeoutMs: 60_000,
  });
  cancel.abort();
  assert.equal(b.cause, "shutdown");
  const error = b.abortError() as ClientError;
  assert.equal(error.code, "SHUTTING_DOWN");
  // Retryable: the GraphQL door answers HTTP 503 with Retry-After.
  assert.deepEqual(clientExtensions(error).http, {
    status: 503,
    headers: { "Retry-After": "1" },
  });
  b.dispose();

  const c = createRequestScope({ id: "x", timeoutMs: 60_000 });
  assert.equal(c.id, "x");
  c.dispose();
  assert.equal(c.cause, "done");
  assert.equal(c.signal.aborted, true);

  // Already aborted when created.
  const d = createRequestScope({
    requestSignal: AbortSignal.abort(),
    timeoutMs: 60_000,
  });
  assert.equal(d.cause, "disconnected");
  d.dispose();
});
