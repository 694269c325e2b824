/**
 * The query GraphiQL opens with: it runs as is, on a tiny embedded photo of
 * a cat (48×32 PNG, colours reduced), and shows the other ways to send an
 * image in comments.
 *
 * @module
 */
import { ORIGIN_MARK } from "../web/mod.ts";

/** A 48×32 PNG of the Chelsea test photo, as base64 (the model sees a cat). */
export const TINY_CAT_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAADzklEQVR42pWXi3HDQAhEXYJKcSlXikpRKSolJQVYPgs6e5IMk5Fl+e4dnwW9russO8XWtdzu63TDfdha53rD9DG7edpNu/Cv8JFMF5d10nBHHnu/D7bXfV1iRaNbYqeg0a946SLmm7IyA8lHY4LpA0zjTEt/Nex1yx+YjDePHud4ooyjp5Omh9hVulo4O1eGX+sMZgZ0NyBsOWkoQHL9DEp+ZI62YAHJ4gj9ZBITIKUxICwKmuEY2ru8OF3lTJFPfieCG0D8/MbgIQubeUiA/ARbA0fa3j3O0b1YxWGLW0bL88ME6Oe+YZnU34DEfxELAtJr/ZUsEU5iSrgn/nuJKTd7K4yAntVEBspWcZ5q7rb7KqD8nwdzIPOT08DCW2kOhJDViaNWi2YnAZGeFmj+NlAyaTKBAPTFAsiSmnPiFCF5HwhN1YWpy3ofZpn+Hi+zeQAjcFwHUrM/yqRvQKRGkeO2FmjkjsmrKqxgJa6GjLA6UPtolqUd4QsmF8aMF4mshy+3SVFQfT1U5tcypl7SzT2eNBRlAgoe/UsmbR2g2WorM7l7xFGCY0AInyZv15jRBL0t5MrUOg0HShFV1tQiCqf3VA9cKqc4xtzjPUvsE5C7055pG5mTkqkJYw/QDHYTQ2ISP4nFZge5BIv4OnINd8qT0Cd/TNpD6DG3dgXiKeLJ1PSwd6uotZlGbOEhDascgHMo9S90x+FmyEzNyElDplkkAWceaoXdHmiNkw5ZQ5hXXAfqDTIziftXSSX3O/3K5OooDo2X2lCQZ0eigq857vW9fZYg9WmrBF0fOITJtkQ9rh811UN0j+TDz7OP7rv9vqV/au/kreakJUAWOGMCUHaV0Yg2gwcrNc+8YyzEMPWRlfI9nCSBU6avQNwu3FuVSZJDMS30YZ5qyjzRhr1UZC5AzaQMHIXMabCay49JMbUzS2oXApQ9FyS/e/RxuKziZRdgYiehq7cQxxahQCRCeyAnbVPEByaDUA6vOLs2IC7SmOZyQg9nGFNqD1W+3ncdssrPQHLs+kTc9InHAXRlYwosKk+kTqVR+glR2wLJz3gwoI3TTz1ezWIcANOVWFHq3lAdq/RwuG0ARYwnUx2OmShe+UNtXe4nnJBaWwDRBccxcyjVr0eNrZii3DijWzS1dx0CBJocFrS+KGrxHp1vIwMo4j08NF1F7+cf3wXQTKEjQ3syXtgl/cQ0BURZ8gSi8MW7cFdRt3gNfYLm3rl9JNBjRyv7oRN/Bdpj7TwXG98ydTCQD2vQSAJKUe4T+P+Y9gGqcwoKzGks4aK6a6NfDB4kWV89CCUAAAAASUVORK5CYII=";

/**
 * GraphiQL's default query: model info, the explainers, and a Grad-CAM
 * explanation of {@linkcode TINY_CAT_PNG_BASE64}. Its curl line names the
 * server as {@linkcode ORIGIN_MARK}, which the GraphiQL page replaces with
 * its own origin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parse, validate } from "graphql";
 * import { lumenSchema } from "./schema.ts";
 * // createYoga({ graphiql: { defaultQuery: DEFAULT_QUERY } }): it must be valid.
 * assert.deepEqual(validate(lumenSchema(), parse(DEFAULT_QUERY)), []);
 * assert.ok(DEFAULT_QUERY.includes(TINY_CAT_PNG_BASE64));
 * ```
 */
export const DEFAULT_QUERY =
  `# Lumen explains what an image classifier looks at.
# Press the run button: this query works as is, on a tiny embedded cat photo.
#
# Send your own image as base64 (with or without a data: prefix):
#   explain(image: { base64: "iVBORw0KGgo..." }) { ... }
# or as a multipart upload (File variable), e.g. with curl:
#   curl ${ORIGIN_MARK}/graphql -H 'x-graphql-yoga-csrf: 1' \\
#     -F operations='{"query":"query($f: File!) { predict(image: {file: $f}) { label probability } }","variables":{"f":null}}' \\
#     -F map='{"0":["variables.f"]}' -F 0=@cat.png
#
# Try method: "activation", layer: "layer3", className: "tabby",
# render: { colormap: "viridis", alpha: 0.5 }, or explainMany(...) @stream.

query Explain {
  model {
    name
    backend
    defaultLayer
  }
  explainers {
    name
    description
  }
  explain(image: { base64: "${TINY_CAT_PNG_BASE64}" }, method: "gradcam") {
    label
    probability
    layer
    predictions {
      label
      probability
    }
    map {
      width
      height
    }
    timings {
      forward
      explain
      render
    }
    # Paste this data URL into the browser's address bar to see it.
    overlay
  }
}
`;
