#!/bin/sh
# Starts one model worker process (workers/model_worker.ts) with what a
# model needs and nothing more: read access to the project (and to the
# model, label and plugin files the server could read itself, passed in
# LUMEN_WORKER_READ), the environment, ONNX Runtime's native binding, and
# writes to its weights cache folder only (LUMEN_WORKER_WRITE, if set:
# Deno refuses an empty --allow-write=); no network, no subprocesses. The server may run only this script
# (--allow-run=workers/model_worker.sh), not Deno itself.
here=$(dirname "$0")
exec "${LUMEN_DENO:-deno}" run --quiet --no-prompt \
  --allow-read="${LUMEN_WORKER_READ:-.}" \
  --allow-env \
  ${LUMEN_WORKER_WRITE:+"--allow-write=$LUMEN_WORKER_WRITE"} \
  --allow-ffi=node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/bin/ \
  "$here/model_worker.ts" "$@"
