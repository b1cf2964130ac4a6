# The two commands a newcomer needs: `make dev` and `make test`. Both install what they use.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .tools/venv
# Each checkout builds into its own target/ (an inherited CARGO_TARGET_DIR is overridden):
# a folder shared by two clones serves one clone the other's binaries, since cargo gives a
# workspace member the same unit hash in every clone. (sccache would not give the shared
# dependencies back: it keys Rust compilations by the directory cargo runs rustc in, the
# checkout's, so a second clone missed on every crate; see docs/builds.md.)
export CARGO_TARGET_DIR := $(CURDIR)/target
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Clippy lints the workspace's own crates inside the one debug build instead of in a check
# build of its own (which compiled every dependency a second time): the compiler is
# clippy-driver for workspace members only, with `-D warnings`, exactly as `cargo clippy --
# -D warnings` runs it. Every cargo command make runs sees the same two variables, so no
# build differs from another (docs/builds.md). The arm64 build, on Debian's rustc, unsets them.
export RUSTC_WORKSPACE_WRAPPER := $(shell command -v clippy-driver)
export CLIPPY_ARGS := -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
# CI builds once from nothing: rustc's incremental state (gigabytes, and time to write it) would
# serve no second build there. A developer's checkout keeps it, for make check's warm builds.
ifeq ($(CI),true)
export CARGO_INCREMENTAL := 0
endif
TOOLS_STAMP := $(VENV)/.installed-$(shell sha1sum requirements-dev.txt | cut -c1-12)

.PHONY: check prune sam-tools arm64-toolchain clean help bench bench-scale bench-export migrate chromium console-deps dev test soak provision tools build sam-build sam-build-host boot-check sam-deploy bootstrap-admin sizes

help:
	@echo "make dev        start the emulator, provision and seed it, serve the functions (Ctrl-C stops)"
	@echo "make check      format, lints and every test that needs no emulator (the fast lane)"
	@echo "make test       every check and test, in timed stages (starts its own emulator)"
	@echo "make soak       the concurrent workload with faults, long (10,000 operations), with its figures"
	@echo "make provision  create the template's tables and user pool on \$$AWS_ENDPOINT_URL, write .local/env"
	@echo "make sizes      release-build every function and print its size"
	@echo "make bench      cold start, warm cost, memory and size of every function beside hello-world baselines"
	@echo "make bench-export an audit export's rows a second and peak memory at 10 000 and 100 000 entries (make bench runs it too)"
	@echo "make bench-scale AWS calls and items read of a page, two searches, two reconciler passes at 1 000 and 10 000 members"
	@echo "make sam-build  sam build: an arm64 bootstrap per function (installs Debian's Rust for aarch64 when missing)"
	@echo "make boot-check boot every arm64 bootstrap under qemu against a local Runtime API; check arch and glibc"
	@echo "make sam-deploy build, then deploy (guided the first time: it asks for ConsoleOrigin)"
	@echo "make bootstrap-admin ORG=… NAME=… PHONE=… [EMAIL=…]  the first administrator of an organisation"
	@echo "make migrate    after a deploy: the data migrations it needs (idempotent, resumable; STACK or ENV_FILE)"
	@echo "make prune      remove what no build of this checkout uses any more from target/"
	@echo "make clean      remove this checkout's builds (target/, infra/.aws-sam*); the sccache cache stays"
	@echo "make sam-build-host  the same sam build for this machine's x86_64 (no cross toolchain needed)"

tools: $(TOOLS_STAMP)

# The reference console's one npm dependency (the Cognito SRP client), from the lockfile.
CONSOLE_STAMP := console/node_modules/.installed-$(shell sha1sum console/package-lock.json | cut -c1-12)
console-deps: $(CONSOLE_STAMP)
$(CONSOLE_STAMP): console/package-lock.json
	rm -f console/node_modules/.installed-*
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# A virtual environment at $(1) holding the packages of its requirements file ($<); the stamp
# ($@) names the file's hash, so a changed file reinstalls.
define install-venv
	rm -f $(1)/.installed-*
	python3 -m venv $(1)
	$(1)/bin/pip install --quiet --upgrade pip
	$(1)/bin/pip install --quiet -r $<
	touch $@
endef

$(TOOLS_STAMP): requirements-dev.txt
	$(call install-venv,$(VENV))

# The one debug build: every target of the workspace (binaries, tests, the test binaries'
# dev-dependencies' features), linted as it compiles. make check, make test and make dev all
# use it; a narrower cargo command would resolve other features and compile a second copy.
# TARGETS narrows what is built (`make build TARGETS="--bin local-api"`) without changing the
# features: the packages selected stay the whole workspace.
TARGETS ?= --all-targets
build: tools
	@if [ -z "$$RUSTC_WORKSPACE_WRAPPER" ]; then echo "clippy-driver not found: rustup component add clippy" >&2; exit 2; fi
	cargo build --workspace $(TARGETS)

# The fast lane: no emulator, no browser, no network once the tools are installed.
check: tools
	scripts/test/check.sh

# What a long session leaves in target/ and nothing uses (scripts/test/prune.py).
prune: tools
	python scripts/test/prune.py

# Debian's chromium for the browser tests (Playwright drives it; its own download is not used).
chromium:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && [ -r /etc/debian_version ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }; \
	  else echo "the browser tests need chromium: apt-get install chromium (as root)" >&2; exit 2; fi; \
	fi

dev: tools console-deps build
	scripts/dev/dev.sh

test: tools console-deps chromium
	scripts/test/test.sh

soak: tools build
	scripts/test/soak.sh

provision: tools build
	scripts/dev/provision.sh

# The SAM CLI pins its own aws-sam-translator and cfn-lint: it gets a virtual environment of
# its own, so that it never changes the versions make test checks with.
SAM_VENV := .tools/sam-venv
SAM_STAMP := $(SAM_VENV)/.installed-$(shell sha1sum requirements-sam.txt | cut -c1-12)

$(SAM_STAMP): requirements-sam.txt
	$(call install-venv,$(SAM_VENV))

sam-tools: $(SAM_STAMP)

# Debian's Rust for aarch64, the cross C toolchain and qemu-user (installed when missing).
arm64-toolchain:
	scripts/deploy/arm64-toolchain.sh >/dev/null

sam-build: tools $(SAM_STAMP)
	PATH="$$PATH:$(CURDIR)/$(SAM_VENV)/bin" scripts/deploy/sam-build.sh

sam-build-host: tools $(SAM_STAMP)
	PATH="$$PATH:$(CURDIR)/$(SAM_VENV)/bin" ARCH=x86_64 scripts/deploy/sam-build.sh

boot-check: tools build
	scripts/deploy/boot-check.sh

# The first deploy is guided: it asks for ConsoleOrigin (no default) and saves the answers
# to infra/samconfig.toml, which later deploys read.
sam-deploy: sam-build
	cd infra && if grep -q '^parameter_overrides' samconfig.toml; then \
	  PATH="$$PATH:$(CURDIR)/$(SAM_VENV)/bin" sam deploy; \
	else \
	  PATH="$$PATH:$(CURDIR)/$(SAM_VENV)/bin" sam deploy --guided; \
	fi
	# What is deployed now: the next change is checked against it (tests/infra/test_update.py).
	cp infra/template.yaml infra/deployed/template.yaml

bootstrap-admin: tools build $(SAM_STAMP)
	PATH="$$PATH:$(CURDIR)/$(SAM_VENV)/bin" scripts/deploy/bootstrap-admin.sh

migrate: tools build $(SAM_STAMP)
	PATH="$$PATH:$(CURDIR)/$(SAM_VENV)/bin" scripts/deploy/migrate.sh

sizes: tools
	scripts/bench/sizes.sh

# The export's figures are printed even when a target of the first table is missed; make
# bench fails if either part does.
bench: tools build
	@status=0; scripts/bench/bench.sh || status=$$?; scripts/bench/bench-export.sh || status=$$?; exit $$status

bench-export: tools build
	scripts/bench/bench-export.sh

bench-scale: tools build
	scripts/bench/bench-scale.sh

clean:
	rm -rf target infra/.aws-sam infra/.aws-sam-host
