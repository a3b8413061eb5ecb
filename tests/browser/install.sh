#!/usr/bin/env bash
# Install the browser tests' pinned tools (axe-core, html-validate) from package-lock.json
# with npm ci, then check what got installed. Safe to run again: npm ci always rebuilds
# node_modules exactly from the lockfile. Used by .ci/run; Chromium itself is Debian's package.
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --loglevel=error

pinned() { node -e 'console.log(require(process.argv[1]).dependencies[process.argv[2]])' "$PWD/package.json" "$1"; }
installed() { node -e 'console.log(require(process.argv[1]).version)' "$PWD/node_modules/$1/package.json"; }

for package in axe-core html-validate; do
  want=$(pinned "$package"); got=$(installed "$package")
  if [ "$want" != "$got" ]; then
    echo "tests/browser: $package $got installed, $want pinned" >&2
    exit 1
  fi
done
# html-validate 10 runs on Node ^20.19 or >= 22.12.
node -e '
const [major, minor] = process.versions.node.split(".").map(Number);
if (!((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22)) {
  console.error(`tests/browser: html-validate needs Node ^20.19 or >= 22.12, found ${process.version}`);
  process.exit(1);
}'
echo "tests/browser: axe-core $(installed axe-core), html-validate $(installed html-validate) on Node $(node --version)"
