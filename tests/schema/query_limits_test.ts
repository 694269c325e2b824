import assert from "node:assert/strict";
import {
  buildSchema,
  getIntrospectionQuery,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import {
  countTokens,
  DEFAULT_QUERY_LIMITS,
  queryLimitsRule,
} from "../../schema/query_limits.ts";

const schema = buildSchema(`
  type Query { a: A, n: Int }
  type A { b: A, n: Int }
`);

function errors(query: string, limits = DEFAULT_QUERY_LIMITS) {
  return validate(schema, parse(query), [
    ...specifiedRules,
    queryLimitsRule(limits),
  ]).filter((e) => e.extensions.code === "QUERY_TOO_COMPLEX")
    .map((e) => e.message);
}

Deno.test("countTokens stops past the limit and tolerates bad text", () => {
  assert.equal(countTokens("{ a { n } }", 100), 6);
  assert.equal(countTokens("{ " + "n ".repeat(1_000_000) + "}", 10), 11);
  assert.equal(countTokens('{ a(s: "unterminated) }', 100), null);
  assert.equal(countTokens("# only a comment", 10), 0);
});

Deno.test("depth counts nesting through fragments", () => {
  const limits = { ...DEFAULT_QUERY_LIMITS, maxDepth: 3 };
  assert.deepEqual(errors("{ a { b { n } } }", limits), []);
  assert.deepEqual(errors("{ a { b { b { n } } } }", limits), [
    "Query is too complex: depth 4, the limit is 3",
  ]);
  assert.deepEqual(
    errors(
      "{ a { ...F } } fragment F on A { b { ... on A { b { n } } } }",
      limits,
    ),
    ["Query is too complex: depth 4, the limit is 3"],
  );
});

Deno.test("aliases and directives are counted at every fragment spread", () => {
  const limits = { ...DEFAULT_QUERY_LIMITS, maxAliases: 4, maxDirectives: 3 };
  assert.deepEqual(errors("{ x: n y: n z: n }", limits), []);
  // F has 2 aliases, spread 3 times: 6.
  assert.deepEqual(
    errors(
      "{ a { ...F b { ...F } } n: n ...G } fragment F on A { x: n y: n } fragment G on Query { a { ...F } }",
      limits,
    ),
    ["Query is too complex: 7 aliases, the limit is 4"],
  );
  assert.deepEqual(
    errors(
      "query Q($t: Boolean = true) { n @include(if: $t) @skip(if: false) a @include(if: $t) { n @skip(if: false) } }",
      limits,
    ),
    ["Query is too complex: 4 directives, the limit is 3"],
  );
});

Deno.test("doubling fragments are counted without expanding them", () => {
  const fragments = Array.from(
    { length: 30 },
    (_, i) =>
      `fragment F${i} on A { b { ...F${i + 1} } c: b { ...F${i + 1} } }`,
  ).join(" ") + " fragment F30 on A { n }";
  const start = performance.now();
  const found = errors(`{ a { ...F0 } } ${fragments}`);
  // Expanding would visit 2^30 fields (hours); 5 s is generous for counting
  // on a loaded 2-core machine.
  assert.ok(performance.now() - start < 5000);
  assert.equal(found.length, 2, found.join("; "));
  assert.match(found[0], /depth 32/);
  assert.match(found[1], /1073741823 aliases/);
});

Deno.test("fragment cycles do not hang the rule", () => {
  const found = validate(
    schema,
    parse("{ a { ...F } } fragment F on A { b { ...F } }"),
    [...specifiedRules, queryLimitsRule(DEFAULT_QUERY_LIMITS)],
  );
  assert.ok(found.some((e) => /Cannot spread fragment "F"/.test(e.message)));
});

Deno.test("the default limits let GraphiQL's introspection query through", () => {
  const query = getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  });
  assert.deepEqual(errors(query), []);
  assert.ok(countTokens(query, 10_000)! < DEFAULT_QUERY_LIMITS.maxTokens);
});
