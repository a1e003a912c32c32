#!/usr/bin/env bash
# Builds the release: the server binary (`ssr`) and the browser client (`hydrate`, WASM) into
# target/site, doing what `cargo leptos build --release` does with the tools `make setup` installs
# in seconds to minutes (cargo-leptos itself takes about 20 minutes to compile on two cores, and a
# new user would wait for it before anything else). `cargo leptos watch` still works for those who
# want live reload: the settings below are the ones in Cargo.toml's [package.metadata.leptos].
set -euo pipefail
cd "$(dirname "$0")/.."

name=nightwatch
target=${CARGO_TARGET_DIR:-target}
site=$target/site
pkg=$site/pkg

# Read by leptos at compile time (the client's file names) and by `leptos_config` at run time.
export LEPTOS_OUTPUT_NAME=$name
export LEPTOS_SITE_ROOT=target/site
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR=127.0.0.1:3000
export LEPTOS_RELOAD_PORT=3001
export LEPTOS_LIB_DIR=.
export LEPTOS_BIN_DIR=.
export LEPTOS_JS_MINIFY=false
export LEPTOS_HASH_FILES=false

# The two compilations share nothing but the registry: run them side by side, each in its own
# target directory (the client's is the one cargo-leptos uses, so either tool reuses the other's).
cargo build --package=$name --lib --target-dir="$target/front" --target=wasm32-unknown-unknown \
  --no-default-features --features=hydrate --profile=wasm-release &
front=$!
cargo build --package=$name --bin=$name --no-default-features --features=ssr --release &
server=$!
status=0
wait $front || status=$?
wait $server || status=$?
[ "$status" = 0 ] || { echo "the build failed" >&2; exit "$status"; }

rm -rf "$pkg"
mkdir -p "$pkg"
wasm-bindgen --target=web --no-typescript --out-name=$name --out-dir="$pkg" \
  "$target/front/wasm32-unknown-unknown/wasm-release/$name.wasm"
mv "$pkg/${name}_bg.wasm" "$pkg/$name.wasm"
# The same passes cargo-leptos asks of wasm-opt (binaryen from `make setup`, never Debian's: see
# the README's build notes).
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg/$name.wasm" -o "$pkg/$name.wasm"
cp style/main.css "$pkg/$name.css"
cp -R public/. "$site/"

# Content-hashed names, so a browser keeps each file a year and asks again only when it changed
# (the server reads pkg/hash.txt; see src/server/assets.rs), and each file precompressed with
# brotli and gzip at their best, served as the browser accepts (node is here for binaryen).
: >"$pkg/hash.txt"
for ext in js wasm css; do
  hash=$(sha256sum "$pkg/$name.$ext" | cut -c1-20)
  mv "$pkg/$name.$ext" "$pkg/$name.$hash.$ext"
  echo "$ext: $hash" >>"$pkg/hash.txt"
done
node scripts/compress.mjs "$pkg"/$name.*.{js,wasm,css}
ls -l "$pkg"
