/**
 * Custom scalars: `JSON` (any JSON value, for per-method options). `File`
 * keeps GraphQL's default pass-through: yoga puts the uploaded `File` in the
 * variables and the image input checks its type.
 *
 * @module
 */
import { GraphQLScalarType, Kind, valueFromASTUntyped } from "graphql";

/**
 * The `JSON` scalar: values pass through unchanged; literals in the query
 * become plain values (objects, lists, numbers, strings, booleans, null).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseValue } from "graphql";
 * // createSchema({ typeDefs, resolvers: { JSON: JSONScalar, … } })
 * const literal = JSONScalar.parseLiteral(parseValue(`{ topChannels: 8, keep: [1, "a"] }`));
 * assert.equal(JSON.stringify(literal), `{"topChannels":8,"keep":[1,"a"]}`);
 * assert.deepEqual(JSONScalar.parseValue({ topChannels: 8 }), { topChannels: 8 });
 * ```
 */
export const JSONScalar: GraphQLScalarType = new GraphQLScalarType({
  name: "JSON",
  description: "Arbitrary JSON, used for per-method options.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) =>
    ast.kind === Kind.NULL ? null : valueFromASTUntyped(ast, variables),
});
