#!/usr/bin/env bash
# Install masto (the client library Elk and Phanpy use) and the Node 22 it runs on, both pinned
# in package-lock.json (npm ci), then check what got installed. Safe to run again: npm ci always
# rebuilds node_modules exactly from the lockfile. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

# npm itself runs on the system Node; masto declares engines.node >= 22 and runs on the Node
# of its own `node` package, hence npm's EBADENGINE warning is expected.
npm ci --no-audit --no-fund --loglevel=error

pinned() { node -e 'console.log(require(process.argv[1]).dependencies[process.argv[2]])' "$PWD/package.json" "$1"; }
installed() { node -e 'console.log(require(process.argv[1]).version)' "$PWD/node_modules/$1/package.json"; }

want=$(pinned masto); got=$(installed masto)
if [ "$want" != "$got" ]; then
  echo "tests/masto: masto $got installed, $want pinned" >&2
  exit 1
fi
want="v$(pinned node)"; got=$(node_modules/.bin/node --version)
if [ "$want" != "$got" ]; then
  echo "tests/masto: Node $got installed, $want pinned" >&2
  exit 1
fi
echo "tests/masto: masto $(installed masto) on bundled Node $got"
