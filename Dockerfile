# Lumen: one image for the API (`deno task serve`) and the job workers
# (`deno task worker`). Written for issue 14; not built here (no Docker
# engine on the development machine): see README for what was tested.
#
#   docker build -t lumen .
#   docker run -p 8000:8000 lumen                      # embedded jobs
#   docker compose up                                  # Redis, 2 APIs, 2 workers

# Deno comes from npm (the `deno` package links the platform binary at
# node_modules/deno/deno on install); only the binary goes on.
FROM debian:bookworm-slim AS deno
ARG DENO_VERSION=2.9.6
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && npm install --prefix /opt/deno --no-audit --no-fund "deno@${DENO_VERSION}" \
 && /opt/deno/node_modules/deno/deno --version

FROM debian:bookworm-slim
# curl: the health check. ca-certificates: HTTPS image URLs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group lumen
COPY --from=deno /opt/deno/node_modules/deno/deno /usr/local/bin/deno

WORKDIR /app
ENV DENO_DIR=/app/.deno-cache \
    DENO_NO_UPDATE_CHECK=1
# Dependencies first, so that a code change reuses this layer. Deno does not
# run npm install scripts, so onnxruntime-node fetches nothing at build.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
# Everything the first request would otherwise wait for: the web bundle and
# the type-checked, cached modules. `deno task serve` re-runs its install
# and build:web steps at start (quick no-ops on this warm tree); the tree
# belongs to the user that runs them.
RUN deno task build:web \
 && deno cache main.ts worker.ts cli.ts \
 && chown -R lumen:lumen /app
USER lumen

EXPOSE 8000
# /ready answers 200 once the default model is loaded (503 before).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8000/ready || exit 1
CMD ["deno", "task", "serve"]
