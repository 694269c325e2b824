#!/bin/sh
# Starts one model worker process (workers/model_worker.ts) with what a
# model needs and nothing more: read access to the project (and to the
# model, label and plugin files the server could read itself, passed in
# LUMEN_WORKER_READ), the environment, and ONNX Runtime's native binding;
# no network, no writes, no subprocesses. The server may run only this
# script (--allow-run=workers/model_worker.sh), not Deno itself.
here=$(dirname "$0")
exec "${LUMEN_DENO:-deno}" run --quiet --no-prompt \
  --allow-read="${LUMEN_WORKER_READ:-.}" \
  --allow-env \
  --allow-ffi=node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/bin/ \
  "$here/model_worker.ts" "$@"
