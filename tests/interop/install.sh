#!/usr/bin/env bash
# Install the pinned Fedify peers from their lockfiles (npm ci), then check
# what got installed.  Safe to run again: npm ci always rebuilds node_modules
# exactly from package-lock.json.  Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

for dir in fedify-1.5 fedify-1.10; do
  echo "== tests/interop/$dir: npm ci"
  (cd "$dir" && npm ci --no-audit --no-fund)
done

pinned() { node -e 'console.log(require(process.argv[1]).dependencies["@fedify/fedify"])' "$PWD/$1/package.json"; }
installed() { node -e 'console.log(require(process.argv[1]).version)' "$PWD/$1/node_modules/@fedify/fedify/package.json"; }

for dir in fedify-1.5 fedify-1.10; do
  want=$(pinned "$dir"); got=$(installed "$dir")
  if [ "$want" != "$got" ]; then
    echo "$dir: @fedify/fedify $got installed, $want pinned" >&2
    exit 1
  fi
done

node15=$(node --version)
node110=$(fedify-1.10/node_modules/.bin/node --version)
case "$node15" in v2[0-9].*|v[3-9][0-9].*) ;; *) echo "fedify-1.5 needs Node >= 20, found $node15" >&2; exit 1 ;; esac
case "$node110" in v22.*) ;; *) echo "fedify-1.10/node_modules/.bin/node is $node110, expected Node 22" >&2; exit 1 ;; esac

echo "fedify-1.5:  @fedify/fedify $(installed fedify-1.5) on system Node $node15"
echo "fedify-1.10: @fedify/fedify $(installed fedify-1.10) on bundled Node $node110"
