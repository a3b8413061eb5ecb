#!/usr/bin/env bash
# Install the pinned Fedify peers from their lockfiles (npm ci), then check
# what got installed.  Safe to run again: npm ci always rebuilds node_modules
# exactly from package-lock.json.  Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

DIRS=(fedify-1.5 fedify-1.10 fedify-2)

for dir in "${DIRS[@]}"; do
  echo "== tests/interop/$dir: npm ci"
  # npm itself runs on the system Node 20; fedify-1.10 and fedify-2 declare
  # engines.node >= 22 (they run on the Node from their own `node` package),
  # hence npm's EBADENGINE warnings for them are expected.
  (cd "$dir" && npm ci --no-audit --no-fund)
done

pinned() { node -e 'console.log(require(process.argv[1]).dependencies[process.argv[2]])' "$PWD/$1/package.json" "$2"; }
installed() { node -e 'console.log(require(process.argv[1]).version)' "$PWD/$1/node_modules/$2/package.json"; }

check() {  # folder package: the installed version must equal the pinned one
  local want got
  want=$(pinned "$1" "$2"); got=$(installed "$1" "$2")
  if [ "$want" != "$got" ]; then
    echo "$1: $2 $got installed, $want pinned" >&2
    exit 1
  fi
}

for dir in "${DIRS[@]}"; do
  check "$dir" @fedify/fedify
done
# Fedify 2 moved the vocabulary into its own package; it must match @fedify/fedify.
check fedify-2 @fedify/vocab
if [ "$(installed fedify-2 @fedify/vocab)" != "$(installed fedify-2 @fedify/fedify)" ]; then
  echo "fedify-2: @fedify/vocab $(installed fedify-2 @fedify/vocab) != @fedify/fedify $(installed fedify-2 @fedify/fedify)" >&2
  exit 1
fi

node15=$(node --version)
node110=$(fedify-1.10/node_modules/.bin/node --version)
node2=$(fedify-2/node_modules/.bin/node --version)
case "$node15" in v2[0-9].*|v[3-9][0-9].*) ;; *) echo "fedify-1.5 needs Node >= 20, found $node15" >&2; exit 1 ;; esac
case "$node110" in v22.*) ;; *) echo "fedify-1.10/node_modules/.bin/node is $node110, expected Node 22" >&2; exit 1 ;; esac
case "$node2" in v24.*) ;; *) echo "fedify-2/node_modules/.bin/node is $node2, expected Node 24" >&2; exit 1 ;; esac
for dir in fedify-1.10 fedify-2; do
  want="v$(pinned "$dir" node)"; got=$("$dir/node_modules/.bin/node" --version)
  if [ "$want" != "$got" ]; then
    echo "$dir: Node $got installed, $want pinned" >&2
    exit 1
  fi
done

echo "fedify-1.5:  @fedify/fedify $(installed fedify-1.5 @fedify/fedify) on system Node $node15"
echo "fedify-1.10: @fedify/fedify $(installed fedify-1.10 @fedify/fedify) on bundled Node $node110"
echo "fedify-2:    @fedify/fedify $(installed fedify-2 @fedify/fedify) (+ @fedify/vocab $(installed fedify-2 @fedify/vocab)) on bundled Node $node2"
