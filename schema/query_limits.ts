/**
 * Limits on the GraphQL document itself, checked before anything runs:
 * tokens (counted while lexing, so a huge query is refused after reading
 * `maxTokens` tokens, not parsed whole), depth, aliases and directives
 * (fragments expanded where they are spread). Every refusal is a
 * `QUERY_TOO_COMPLEX` client error naming the limit.
 *
 * @module
 */
import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  Lexer,
  type OperationDefinitionNode,
  type SelectionSetNode,
  Source,
  TokenKind,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import type { Plugin } from "graphql-yoga";

/** Limits on a GraphQL document. */
export interface QueryLimits {
  /** Most lexical tokens in the document. @default 1000 */
  maxTokens: number;
  /**
   * Deepest field nesting, root fields at depth 1 (our schema needs 3;
   * GraphiQL's introspection query 15). @default 20
   */
  maxDepth: number;
  /** Most aliases in one operation, fragments expanded. @default 15 */
  maxAliases: number;
  /** Most directives in one operation, fragments expanded. @default 50 */
  maxDirectives: number;
}

/**
 * The defaults of {@linkcode QueryLimits}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const limits = { ...DEFAULT_QUERY_LIMITS, maxAliases: 5 }; // for useQueryLimits(limits)
 * assert.deepEqual(limits, { maxTokens: 1000, maxDepth: 20, maxAliases: 5, maxDirectives: 50 });
 * ```
 */
export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  maxTokens: 1000,
  maxDepth: 20,
  maxAliases: 15,
  maxDirectives: 50,
});

function tooComplex(
  detail: string,
  limit: number,
  limitName: keyof QueryLimits,
): GraphQLError {
  return new GraphQLError(`Query is too complex: ${detail}`, {
    extensions: { code: "QUERY_TOO_COMPLEX", limit, limitName },
  });
}

/**
 * Counts the tokens of `query`, stopping once there are more than `max`.
 * Returns the count (at most `max + 1`), or null when the text does not
 * lex (the parser then reports the syntax error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(countTokens("{ a b }", 100), 4);
 * assert.equal(countTokens("{ a b c d e }", 3), 4); // stopped after max + 1
 * assert.equal(countTokens("{ a \"", 100), null); // does not lex
 * ```
 */
export function countTokens(query: string, max: number): number | null {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      if (++count > max) break;
    }
  } catch {
    return null;
  }
  return count;
}

interface Tally {
  depth: number;
  aliases: number;
  directives: number;
}

/**
 * Measures an operation: its depth and, with fragments expanded at every
 * spread, its aliases and directives. Fragment cycles count as empty (the
 * standard `NoFragmentCycles` rule reports them).
 */
function measure(
  operation: OperationDefinitionNode,
  fragment: (name: string) => FragmentDefinitionNode | undefined,
): Tally {
  const memo = new Map<string, Tally>();
  const visiting = new Set<string>();
  const fromSet = (set: SelectionSetNode | undefined): Tally => {
    const tally: Tally = { depth: 0, aliases: 0, directives: 0 };
    for (const selection of set?.selections ?? []) {
      tally.directives += selection.directives?.length ?? 0;
      let inner: Tally;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) tally.aliases++;
        inner = fromSet(selection.selectionSet);
        inner = { ...inner, depth: inner.depth + 1 };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = fromSet(selection.selectionSet);
      } else {
        inner = fromFragment(selection.name.value);
      }
      tally.depth = Math.max(tally.depth, inner.depth);
      tally.aliases += inner.aliases;
      tally.directives += inner.directives;
    }
    return tally;
  };
  const fromFragment = (name: string): Tally => {
    const known = memo.get(name);
    if (known) return known;
    const definition = fragment(name);
    if (!definition || visiting.has(name)) {
      return { depth: 0, aliases: 0, directives: 0 };
    }
    visiting.add(name);
    const tally = fromSet(definition.selectionSet);
    tally.directives += definition.directives?.length ?? 0;
    visiting.delete(name);
    memo.set(name, tally);
    return tally;
  };
  const tally = fromSet(operation.selectionSet);
  tally.directives += operation.directives?.length ?? 0;
  return tally;
}

/**
 * A validation rule refusing operations deeper, or with more aliases or
 * directives, than `limits` allow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSchema, parse, specifiedRules, validate } from "graphql";
 * const schema = buildSchema("type Query { hello: String }");
 * const rules = [...specifiedRules, queryLimitsRule({ ...DEFAULT_QUERY_LIMITS, maxAliases: 1 })];
 * assert.deepEqual(validate(schema, parse("{ a: hello }"), rules), []);
 * const [error] = validate(schema, parse("{ a: hello b: hello }"), rules);
 * assert.equal(error?.message, "Query is too complex: 2 aliases, the limit is 1");
 * assert.equal(error?.extensions.code, "QUERY_TOO_COMPLEX");
 * ```
 */
export function queryLimitsRule(
  limits: Pick<QueryLimits, "maxDepth" | "maxAliases" | "maxDirectives">,
): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const tally = measure(
        operation,
        (name) => context.getFragment(name) ?? undefined,
      );
      if (tally.depth > limits.maxDepth) {
        context.reportError(tooComplex(
          `depth ${tally.depth}, the limit is ${limits.maxDepth}`,
          limits.maxDepth,
          "maxDepth",
        ));
      }
      if (tally.aliases > limits.maxAliases) {
        context.reportError(tooComplex(
          `${tally.aliases} aliases, the limit is ${limits.maxAliases}`,
          limits.maxAliases,
          "maxAliases",
        ));
      }
      if (tally.directives > limits.maxDirectives) {
        context.reportError(tooComplex(
          `${tally.directives} directives, the limit is ${limits.maxDirectives}`,
          limits.maxDirectives,
          "maxDirectives",
        ));
      }
    },
  });
}

/**
 * The yoga plugin: counts tokens before parsing and adds
 * {@linkcode queryLimitsRule} to validation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSchema, createYoga } from "graphql-yoga";
 * const schema = createSchema({ typeDefs: "type Query { hello: String }" });
 * const yoga = createYoga({ schema, plugins: [useQueryLimits({ maxTokens: 5 })] });
 * const query = encodeURIComponent("{ a: hello b: hello }"); // 9 tokens
 * const { errors } = await (await yoga.fetch(`http://localhost/graphql?query=${query}`)).json();
 * assert.equal(errors[0].message, "Query is too complex: more than 5 tokens");
 * assert.equal(errors[0].extensions.code, "QUERY_TOO_COMPLEX");
 * ```
 */
export function useQueryLimits(
  limits: Partial<QueryLimits> = {},
): Plugin {
  const all = { ...DEFAULT_QUERY_LIMITS, ...limits };
  const rule = queryLimitsRule(all);
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        const text = typeof source === "string" ? source : source.body;
        const count = countTokens(text, all.maxTokens);
        if (count !== null && count > all.maxTokens) {
          throw tooComplex(
            `more than ${all.maxTokens} tokens`,
            all.maxTokens,
            "maxTokens",
          );
        }
        return parseFn(source, options);
      });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
