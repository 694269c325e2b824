/**
 * An Apollo link that sends files as a GraphQL multipart request (the
 * upload spec) and still reads incremental (`@defer` / `@stream`)
 * multipart/mixed responses.
 *
 * apollo-upload-client's `UploadHttpLink` builds the right request but reads
 * one JSON response only; Apollo's `BaseHttpLink` reads incremental responses
 * but sends JSON only. This link is the two joined: a first link finds the
 * files in the variables (with apollo-upload-client's `isExtractableFile`)
 * and hands them to `BaseHttpLink`'s `fetch`, which sends `operations`,
 * `map` and the files (with apollo-upload-client's `formDataAppendFile`)
 * instead of the JSON body.
 *
 * @module
 */
import { ApolloLink } from "@apollo/client/link";
import { BaseHttpLink } from "@apollo/client/link/http";
import formDataAppendFile from "apollo-upload-client/formDataAppendFile.mjs";
import isExtractableFile from "apollo-upload-client/isExtractableFile.mjs";

/** Files found in an operation, each with the paths where it appears. */
export type FileMap = Map<Blob, string[]>;

/** The `fetchOptions` key the files travel under, from link to fetch. */
const UPLOADS = "lumenUploads";

/**
 * Finds the files (`File`, `Blob`, `FileList` entries) in a value made of
 * plain objects and arrays, with their dotted paths below `prefix`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const file = new File(["x"], "a.png");
 * assert.deepEqual(findFiles({ image: { file }, top: 5 }, "variables"), new Map([[file, ["variables.image.file"]]]));
 * ```
 */
export function findFiles(value: unknown, prefix: string): FileMap {
  const files: FileMap = new Map();
  const visit = (node: unknown, path: string) => {
    if (isExtractableFile(node)) {
      const paths = files.get(node as Blob) ?? [];
      paths.push(path);
      files.set(node as Blob, paths);
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, `${path}.${i}`));
    } else if (
      typeof node === "object" && node !== null &&
      Object.getPrototypeOf(node) === Object.prototype
    ) {
      for (const [key, item] of Object.entries(node)) {
        visit(item, `${path}.${key}`);
      }
    }
  };
  visit(value, prefix);
  return files;
}

function setPath(target: unknown, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/**
 * The multipart request body of the GraphQL multipart request spec: the
 * JSON `operations` with each file replaced by null, the `map` from part
 * names to paths, then the files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const file = new File(["x"], "a.png");
 * const form = multipartBody('{"variables":{"f":{}}}', new Map([[file, ["variables.f"]]]));
 * assert.equal(form.get("operations"), '{"variables":{"f":null}}');
 * assert.equal(form.get("map"), '{"1":["variables.f"]}');
 * assert.equal((form.get("1") as File).name, "a.png");
 * ```
 */
export function multipartBody(
  operationsJson: string,
  files: FileMap,
): FormData {
  const operations = JSON.parse(operationsJson);
  const map: Record<string, string[]> = {};
  let part = 0;
  for (const paths of files.values()) {
    map[String(++part)] = paths;
    for (const path of paths) setPath(operations, path, null);
  }
  const form = new FormData();
  form.append("operations", JSON.stringify(operations));
  form.append("map", JSON.stringify(map));
  part = 0;
  for (const file of files.keys()) {
    formDataAppendFile(form, String(++part), file);
  }
  return form;
}

/** Options of {@linkcode uploadStreamLink}. */
export interface UploadStreamLinkOptions {
  /** @default "/graphql" */
  uri?: string;
  /** Headers for every request, e.g. the CSRF header uploads need. */
  headers?: Record<string, string>;
  /** @default the global `fetch` */
  fetch?: typeof fetch;
}

/**
 * The terminating link: multipart uploads when the variables hold files,
 * plain JSON otherwise; responses read by `BaseHttpLink`, incremental
 * delivery included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApolloClient, gql, InMemoryCache } from "@apollo/client";
 * import { Defer20220824Handler } from "@apollo/client/incremental";
 * import { createSchema, createYoga } from "graphql-yoga";
 * // A server in this process (the page talks to Lumen's at /graphql).
 * const yoga = createYoga({
 *   schema: createSchema({
 *     typeDefs: "scalar File type Query { size(file: File!): Int }",
 *     resolvers: { Query: { size: (_: unknown, args: { file: File }) => args.file.size } },
 *   }),
 * });
 * const client = new ApolloClient({
 *   link: uploadStreamLink({
 *     uri: "http://localhost/graphql",
 *     headers: { "x-graphql-yoga-csrf": "1" },
 *     fetch: async (input, init) => await yoga.fetch(new Request(input, init)),
 *   }),
 *   cache: new InMemoryCache(),
 *   incrementalHandler: new Defer20220824Handler(),
 * });
 * const { data } = await client.query({
 *   query: gql`query ($file: File!) { size(file: $file) }`,
 *   variables: { file: new File(["abc"], "a.png") }, // sent as a multipart upload
 * });
 * assert.deepEqual(data, { size: 3 });
 * client.stop();
 * ```
 */
export function uploadStreamLink(
  options: UploadStreamLinkOptions = {},
): ApolloLink {
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const extract = new ApolloLink((operation, forward) => {
    const files = findFiles(operation.variables, "variables");
    if (files.size > 0) {
      operation.setContext((previous) => ({
        fetchOptions: { ...previous.fetchOptions, [UPLOADS]: files },
      }));
    }
    return forward(operation);
  });
  const http = new BaseHttpLink({
    uri: options.uri ?? "/graphql",
    headers: options.headers ?? {},
    fetch: (input, init = {}) => {
      const { [UPLOADS]: files, ...rest } = init as RequestInit & {
        [UPLOADS]?: FileMap;
      };
      if (!files || typeof rest.body !== "string") return send(input, rest);
      // fetch sets the multipart content type, with its boundary.
      const headers = new Headers(rest.headers);
      headers.delete("content-type");
      return send(input, {
        ...rest,
        headers,
        body: multipartBody(rest.body, files),
      });
    },
  });
  return ApolloLink.from([extract, http]);
}
