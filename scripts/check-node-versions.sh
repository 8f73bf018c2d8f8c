#!/usr/bin/env bash
# Runs the README's two commands (`npm install`, `npm test`) from a clean copy of the
# repository under other Node majors, fetched as the npm `node` package (no other downloads).
# Usage: scripts/check-node-versions.sh 22 24
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
for major in "$@"; do
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
    npm test
  )
  rm -rf "$work"
  trap - EXIT
done
