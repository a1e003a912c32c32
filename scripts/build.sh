#!/usr/bin/env bash
# Builds the release: the server binary (`ssr`) and the browser client (`hydrate`, WASM) into
# target/site, doing what `cargo leptos build --release --split` does with the tools `make setup`
# installs in seconds to minutes (cargo-leptos itself takes about 20 minutes to compile on two
# cores, and a new user would wait for it before anything else). `cargo leptos watch --split`
# still works for those who want live reload: the settings below are the ones in Cargo.toml's
# [package.metadata.leptos]. (Without `--split` the client's lazily loaded pages cannot load.)
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
# The WASM splitter (tools/wasm-split, what `cargo leptos build --split` does) is built once into
# the target directory beside them.
cargo build --locked --release --manifest-path=tools/wasm-split/Cargo.toml \
  --target-dir="$target/tools" --quiet &
splitter=$!
cargo build --package=$name --lib --target-dir="$target/front" --target=wasm32-unknown-unknown \
  --no-default-features --features=hydrate --profile=wasm-release &
front=$!
cargo build --package=$name --bin=$name --no-default-features --features=ssr --release &
server=$!
status=0
wait $splitter || status=$?
wait $front || status=$?
wait $server || status=$?
[ "$status" = 0 ] || { echo "the build failed" >&2; exit "$status"; }

# The client, cut at its lazily loaded pages (`LazyRoute` in src/app.rs): the main module (the
# shell and what every page shares), one chunk per page and chunks pages share, their loader
# (`__wasm_split.*.js`) and the manifest from which the server links a page's chunks.
rm -rf "$pkg"
client=$target/front/client
rm -rf "$client"
mkdir -p "$pkg" "$client"
raw=$target/front/wasm32-unknown-unknown/wasm-release/$name.wasm
"$target/tools/release/nightwatch-wasm-split" "$raw" "$client" "${raw%.wasm}_split.wasm" $name
wasm-bindgen --target=web --no-typescript --keep-lld-exports --no-demangle --out-name=$name \
  --out-dir="$client" "${raw%.wasm}_split.wasm"
mv "$client/${name}_bg.wasm" "$client/$name.wasm"
# The same passes cargo-leptos asks of wasm-opt (binaryen from `make setup`, never Debian's: see
# the README's build notes), on every module, two at a time.
ls "$client"/*.wasm | xargs -P 2 -I{} \
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int {} -o {}

# The client's files load one another by relative names (the loader imports the main module,
# which imports the loader): they go together into a directory named by their contents' SHA-256,
# pkg/<20 hex>/, so a browser keeps each file a year and fetches the set again only when one of
# them changed (the server reads pkg/hash.txt; see src/server/assets.rs). The stylesheet is named
# by its own hash. Each file is precompressed with brotli and gzip at their best, served as the
# browser accepts (node is here for binaryen).
hash=$(cd "$client" && LC_ALL=C sha256sum -- * | sha256sum | cut -c1-20)
mv "$client" "$pkg/$hash"
css=$(sha256sum style/main.css | cut -c1-20)
cp style/main.css "$pkg/$name.$css.css"
printf 'client: %s\ncss: %s\n' "$hash" "$css" >"$pkg/hash.txt"
cp -R public/. "$site/"
node scripts/compress.mjs "$pkg/$hash"/* "$pkg/$name.$css.css"
ls -l "$pkg" "$pkg/$hash"
