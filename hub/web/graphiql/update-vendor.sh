#!/usr/bin/env bash
# Re-fetches vendor/ from the npm registry (npm pack: the published tarballs, checked against the
# registry's integrity hash) and verifies every file against VENDOR.md's sha256 sums. To update,
# change the versions here and in VENDOR.md, run it with --update, check the page, commit.
set -euo pipefail
cd "$(dirname "$0")"
REACT=18.2.0
GRAPHIQL=3.8.3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "react@$REACT" "react-dom@$REACT" "graphiql@$GRAPHIQL" >/dev/null)
for package in "react-$REACT" "react-dom-$REACT" "graphiql-$GRAPHIQL"; do
    mkdir -p "$work/$package" && tar -xzf "$work/$package.tgz" -C "$work/$package"
done
mkdir -p "$work/out"
cp "$work/react-$REACT/package/umd/react.production.min.js" "$work/out/"
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" "$work/out/"
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "$work/out/"
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" "$work/out/"
cp "$work/react-$REACT/package/LICENSE" "$work/out/LICENSE.react"
cp "$work/react-dom-$REACT/package/LICENSE" "$work/out/LICENSE.react-dom"
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" "$work/out/LICENSE.graphiql"
if [ "${1:-}" = "--update" ]; then
    cp "$work"/out/* vendor/
    (cd vendor && sha256sum -- *)
    echo "vendor/ updated: put the sums above in VENDOR.md"
else
    sums=$(sed -n 's/^    \([0-9a-f]\{64\}  .*\)$/\1/p' VENDOR.md)
    (cd "$work/out" && echo "$sums" | sha256sum --check --quiet)
    (cd vendor && echo "$sums" | sha256sum --check --quiet)
    echo "vendor/ matches the npm registry's releases and VENDOR.md"
fi
