import assert from "node:assert/strict";
import { nextTurn, turnTaker } from "../../lib/turns.ts";

Deno.test("nextTurn lets pending I/O through: a local fetch completes during a loop of turns", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("hi"),
  );
  let answered = false;
  const request = fetch(`http://127.0.0.1:${server.addr.port}/`)
    .then((r) => r.text())
    .then(() => answered = true);
  // Busy steps with a turn after each: the answer must arrive meanwhile.
  for (let i = 0; i < 2000 && !answered; i++) {
    const until = performance.now() + 1;
    while (performance.now() < until) { /* work */ }
    await nextTurn();
  }
  assert.equal(answered, true);
  await request;
});

Deno.test("turnTaker takes a turn once per slice of work, not per step", async () => {
  let clock = 0;
  const yieldNow = turnTaker({ sliceMs: 10, now: () => clock });
  const turns: boolean[] = [];
  for (let step = 0; step < 10; step++) {
    clock += 4; // each step works 4 ms
    turns.push(await yieldNow());
  }
  // Turns after 12, 24 and 36 ms of work.
  assert.deepEqual(
    turns.map((t, i) => t ? i : -1).filter((i) => i >= 0),
    [2, 5, 8],
  );
});
