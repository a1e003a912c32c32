# Nightwatch: the two commands of the README, and the steps they are made of.
#
#   make run    installs what is missing, builds the release, migrates and serves (SQLite default)
#   make test   every check and test: fmt, clippy (both features), unit + SQLite/PostgreSQL +
#               HTTP tests, Playwright in Chromium (JavaScript off and hydrated), and the REST
#               API fuzzed against its OpenAPI description (schemathesis)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

WASM_BINDGEN_VERSION := 0.2.130
BINARYEN_VERSION := 132.0.0

TOOLS := $(CURDIR)/.tools
# binaryen from npm goes first: Debian's older wasm-opt breaks hydration (see BUILD notes).
export PATH := $(TOOLS)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

ADDR ?= 127.0.0.1:3000
TARGET_DIR := $(CURDIR)/target

.PHONY: run demo test setup setup-e2e build lint unit e2e api-fuzz

run: build
	@echo "Starting Nightwatch (database: $${NIGHTWATCH_DATABASE_URL:-sqlite://data/nightwatch.db})"
	$(TARGET_DIR)/release/nightwatch serve --addr $(ADDR)

## Like run, after filling an empty database with demo incidents and users.
demo: build
	$(TARGET_DIR)/release/nightwatch demo-data
	$(TARGET_DIR)/release/nightwatch serve --addr $(ADDR)

test: setup setup-e2e lint unit build e2e api-fuzz

## Installs the toolchain pieces that are missing; does nothing when all are present.
setup:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
		|| rustup target add wasm32-unknown-unknown
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@[ -x $(TOOLS)/node_modules/.bin/wasm-opt ] \
		|| npm install --no-audit --no-fund --prefix $(TOOLS) binaryen@$(BINARYEN_VERSION)

## Chromium from Debian and Playwright (without its own browser download), and Debian's
## Prometheus Alertmanager, which the alert intake is tested against.
setup-e2e:
	@command -v chromium >/dev/null && [ -x /usr/bin/prometheus-alertmanager ] || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium prometheus-alertmanager; \
		else echo "install Debian's chromium and prometheus-alertmanager (apt-get install chromium prometheus-alertmanager) to run the browser and Alertmanager tests" >&2; exit 1; fi; }
	@cd end2end && { [ -d node_modules/@playwright/test ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund; }

## The release server and WASM client (what `cargo leptos build --release` does, without the
## 20 minutes of compiling cargo-leptos first: see scripts/build.sh).
build: setup
	scripts/build.sh

lint:
	cargo fmt --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --features ssr

e2e:
	end2end/run.sh

## The REST API fuzzed against its OpenAPI description (schemathesis from PyPI, in .tools/venv).
api-fuzz:
	scripts/fuzz-api.sh
