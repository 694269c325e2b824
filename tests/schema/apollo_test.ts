import assert from "node:assert/strict";
import { ApolloClient, gql, HttpLink, InMemoryCache } from "@apollo/client";
import { Defer20220824Handler } from "@apollo/client/incremental";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";
import {
  chelseaBase64,
  fixtureFile,
  sharedApp,
  withServer,
} from "./_helpers.ts";

interface ExplainData {
  explain: {
    label: string;
    predictions: { label: string; probability: number }[];
    overlay?: string;
  };
}

const DEFERRED_EXPLAIN = gql`
  query DeferredExplain($b: String!) {
    explain(image: { base64: $b }, method: "gradcam") {
      label
      predictions {
        label
        probability
      }
      ... @defer {
        overlay
      }
    }
  }
`;

const UPLOAD_EXPLAIN = gql`
  query UploadExplain($file: File!) {
    explain(image: { file: $file }, method: "activation") {
      method
      label
      map {
        width
        height
      }
    }
  }
`;

Deno.test("Apollo Client: a deferred explain streams, then completes", async () => {
  const b = await chelseaBase64();
  await withServer(await sharedApp(), async (base) => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: `${base}/graphql` }),
      cache: new InMemoryCache(),
      incrementalHandler: new Defer20220824Handler(),
    });
    const seen: { dataState: string; data: ExplainData }[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const subscription = client.watchQuery<ExplainData>({
          query: DEFERRED_EXPLAIN,
          variables: { b },
        }).subscribe({
          next(result) {
            if (result.error) reject(result.error);
            if (result.dataState === "empty" || !result.data) return;
            seen.push({
              dataState: result.dataState,
              data: result.data as ExplainData,
            });
            if (result.dataState === "complete") {
              subscription.unsubscribe();
              resolve();
            }
          },
          error: reject,
        });
      });
    } finally {
      client.stop();
    }
    const streaming = seen.find((s) => s.dataState === "streaming");
    assert.ok(streaming, JSON.stringify(seen.map((s) => s.dataState)));
    assert.equal(streaming.data.explain.label, "Egyptian_cat");
    assert.equal(streaming.data.explain.predictions.length, 5);
    assert.equal(streaming.data.explain.overlay, undefined);
    const complete = seen.at(-1)!;
    assert.equal(complete.dataState, "complete");
    assert.ok(
      complete.data.explain.overlay?.startsWith("data:image/png;base64,"),
    );
  });
});

Deno.test("apollo-upload-client: an explain with the image as a File", async () => {
  const file = await fixtureFile("chelsea.png");
  await withServer(await sharedApp(), async (base) => {
    const client = new ApolloClient({
      // Multipart posts need a CSRF header; Apollo clients send this one.
      link: new UploadHttpLink({
        uri: `${base}/graphql`,
        headers: { "apollo-require-preflight": "true" },
      }),
      cache: new InMemoryCache(),
    });
    try {
      const result = await client.query<{
        explain: {
          method: string;
          label: string;
          map: { width: number; height: number };
        };
      }>({
        query: UPLOAD_EXPLAIN,
        variables: { file },
        fetchPolicy: "no-cache",
      });
      assert.equal(result.error, undefined);
      assert.equal(result.data?.explain.method, "activation");
      assert.equal(result.data?.explain.label, "Egyptian_cat");
      assert.equal(result.data?.explain.map.width, 7);
      assert.equal(result.data?.explain.map.height, 7);
    } finally {
      client.stop();
    }
  });
});
