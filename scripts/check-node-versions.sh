#!/usr/bin/env bash
# Runs the README's two commands (`npm install`, `npm test`) from a clean copy of the
# repository under other Node majors, fetched as the npm `node` package (no other downloads).
# A `/k/n` after the major runs the k-th of n shards of the test files under it (vitest's
# --shard), so CI can spread one pass of the suite over several majors.
# Usage: scripts/check-node-versions.sh 22 24          (the whole suite under each)
#        scripts/check-node-versions.sh 22/1/2 24/2/2  (half of it under each)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
for spec in "$@"; do
  major=${spec%%/*}
  shard=
  if [[ $spec == */* ]]; then shard="--shard=${spec#*/}"; fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "== Node $major: fetching the runtime"
  mkdir -p "$work/runtime"
  echo '{ "private": true, "allowScripts": { "node": true } }' > "$work/runtime/package.json"
  npm install --prefix "$work/runtime" --no-audit --no-fund "node@$major" >/dev/null
  runtime="$work/runtime/node_modules/node/bin"
  echo "== Node $major: $("$runtime/node" --version), clean copy of HEAD"
  git -C "$repo" archive HEAD | tar -x -C "$work" --one-top-level=repo
  (
    cd "$work/repo"
    export PATH="$runtime:$PATH"
    npm install --no-audit --no-fund
    npm test ${shard:+-- "$shard"}
  )
  rm -rf "$work"
  trap - EXIT
done
