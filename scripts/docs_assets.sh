#!/usr/bin/env bash
# Install the assets the docs site needs but does not commit: the KaTeX maths renderer.
#
# KaTeX comes from the npm registry (package `katex`, pinned below) with `npm pack`, which downloads the
# published tarball and checks it against the registry's integrity hash; nothing is installed globally and
# no install scripts run. Its browser files (katex.min.js, katex.min.css, contrib/auto-render.min.js and
# fonts/) are copied to docs/assets/vendor/katex/, which is git-ignored, so the built site renders maths
# with no network access at all. Run once after cloning (scripts/test.sh and CI run it too):
#
#     bash scripts/docs_assets.sh
#
# Re-running is cheap: nothing is fetched when the pinned version is already in place.
set -euo pipefail

KATEX_VERSION="0.19.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/docs/assets/vendor/katex"

if [[ -f "$DEST/VERSION" && "$(cat "$DEST/VERSION")" == "$KATEX_VERSION" && -f "$DEST/katex.min.js" ]]; then
    echo "docs assets: KaTeX $KATEX_VERSION already in docs/assets/vendor/katex"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "docs assets: npm not found. Install Node.js and npm (Debian: apt-get install -y npm), then re-run" \
         "bash scripts/docs_assets.sh" >&2
    exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "docs assets: fetching katex@$KATEX_VERSION from the npm registry"
if ! (cd "$TMP" && npm pack --silent "katex@$KATEX_VERSION" >/dev/null 2>"$TMP/npm.log"); then
    cat "$TMP/npm.log" >&2
    echo "docs assets: 'npm pack katex@$KATEX_VERSION' failed (is the npm registry reachable?)" >&2
    exit 1
fi
tar -xzf "$TMP/katex-$KATEX_VERSION.tgz" -C "$TMP"

# Assemble next to the destination, then swap it in, so an interrupted run never leaves half a folder.
STAGE="$DEST.partial"
rm -rf "$STAGE"
mkdir -p "$STAGE/contrib"
cp "$TMP/package/dist/katex.min.js" "$TMP/package/dist/katex.min.css" "$STAGE/"
cp "$TMP/package/dist/contrib/auto-render.min.js" "$STAGE/contrib/"
cp -r "$TMP/package/dist/fonts" "$STAGE/fonts"
cp "$TMP/package/LICENSE" "$STAGE/LICENSE"
echo "$KATEX_VERSION" >"$STAGE/VERSION"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "docs assets: KaTeX $KATEX_VERSION installed in docs/assets/vendor/katex"
