#!/usr/bin/env bash
# make sam-build: what `sam build` makes for a deployment, an arm64 `bootstrap` per function
# under infra/.aws-sam/build/. cargo-lambda cross-compiles with zig; Rust's standard library
# for aarch64 comes from Debian (scripts/deploy/arm64-toolchain.sh installs it), or from rustup's
# `aarch64-unknown-linux-gnu` target with ARM64_RUST=rustup.
#
# make sam-build-host (ARCH=x86_64): the same build of the same template for this machine's
# architecture, under infra/.aws-sam-host/, for machines without the arm64 library: it proves
# the SAM and cargo-lambda pipeline (build method, binaries, paths), not the deployable.
set -euo pipefail
cd "$(dirname "$0")/../../infra"
export SAM_CLI_TELEMETRY=0
arch="${ARCH:-arm64}"
case "$arch" in
  arm64) target=aarch64-unknown-linux-gnu; template=template.yaml; build_dir=.aws-sam/build ;;
  x86_64) target=x86_64-unknown-linux-gnu; build_dir=.aws-sam-host/build
    mkdir -p .aws-sam-host
    template=.aws-sam-host/template.yaml
    sed -e 's/Architectures: \[arm64\]/Architectures: [x86_64]/' -e "s#CodeUri: \.\.#CodeUri: $(cd .. && pwd)#" template.yaml > "$template" ;;
  *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac
if [ "$arch" = arm64 ] && [ "${ARM64_RUST:-debian}" != rustup ]; then
  # Debian's Rust and its aarch64 standard library, first on PATH for this build only, and
  # rustup's proxies left out of it, so that cargo-lambda does not try `rustup target add`.
  # Its own target folder: another compiler version would rebuild the host's artefacts.
  # Only cargo and rustc are put first (through links), so that the rest of PATH (the
  # virtual environment's python, which brings zig) stays as it was.
  toolchain_bin=$(../scripts/deploy/arm64-toolchain.sh)
  links=../.tools/arm64-rust/bin
  mkdir -p "$links"
  for tool in cargo rustc rustdoc; do ln -sfn "$toolchain_bin/$tool" "$links/$tool"; done
  PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/\.cargo/bin$' | paste -sd:)"
  export PATH="$(cd "$links" && pwd):$PATH"
  export CARGO_TARGET_DIR="${ARM64_TARGET_DIR:-$(cd .. && pwd)/target/debian-rust}"
fi
# The host build's release folder is not this build's (another selection of packages): a
# folder of its own, which the streams below may copy whole.
[ "$arch" = x86_64 ] && export CARGO_TARGET_DIR="$(cd .. && pwd)/target/sam-host"
sysroot=$(rustc --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/$target/lib" ]; then
  echo "make sam-build: the Rust toolchain at $sysroot has no standard library for $target." >&2
  echo "Install it with 'rustup target add $target', then run make sam-build again." >&2
  exit 2
fi
# The host's debug build lints through clippy-driver (the Makefile); this build is rustc's
# alone, and another rustc than the one clippy-driver was built with.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
echo "sam build ($arch) with $(rustc --version), target folder $CARGO_TARGET_DIR"
# SAM builds one function at a time, `cargo lambda build --release --arm64 --bin NAME` for
# each in turn: the dependencies once (as bitcode for link-time optimisation), then each
# function a whole-program optimisation on one core, fourteen in a row. The same commands
# are run here first, so that SAM then finds every binary fresh and only copies it: the
# function with the fewest dependencies first, which builds all of theirs; then a copy of
# that target folder (times kept) lets a second worker run the same single-function commands
# beside the first, one core each, each taking the next function from one queue, those with
# the most dependencies (the longest optimisations) first; the second folder's new units
# are merged into the first at the end. Every unit is the one SAM's own command makes: a
# build naming several binaries at once compiles the dependencies differently (objects
# beside the bitcode), units SAM does not reuse (docs/builds.md).
dependencies() {  # the number of a function's dependencies, from its manifest
  sed -n '/^\[dependencies\]/,/^\[/p' "../functions/$1/Cargo.toml" | grep -c 'workspace = true' || true
}
bins=($(grep -A4 "BuildMethod: rust-cargolambda" "$template" | grep -oE "Binary: [a-z-]+" | cut -d' ' -f2 \
  | while read -r bin; do echo "$(dependencies "$bin") $bin"; done | sort -k1,1nr -k2 | cut -d' ' -f2))
flags=(--release)
[ "$arch" = arm64 ] && flags+=(--arm64)
build_one() { (cd .. && cargo lambda build --quiet "${flags[@]}" --bin "$1"); }
queue=$(mktemp -d)
trap 'rm -rf "$queue"' EXIT
# worker NAME: builds the functions of the queue until it is empty; a function is taken by
# renaming its entry, which only one worker can do.
worker() {
  local entry
  for entry in "$queue"/*.todo; do
    [ -e "$entry" ] && mv "$entry" "$entry.$1" 2>/dev/null || continue
    build_one "$(cat "$entry.$1")" || return 1
  done
}
start=$SECONDS
last=$(( ${#bins[@]} - 1 ))
build_one "${bins[last]}"
echo "${bins[last]} and the dependencies built in $((SECONDS - start)) s"
for i in $(seq 0 $((last - 1))); do printf '%s\n' "${bins[i]}" > "$queue/$(printf %03d "$i").todo"; done
beside="$CARGO_TARGET_DIR-beside"
rm -rf "$beside"
cp -a "$CARGO_TARGET_DIR" "$beside"
worker first &
first_worker=$!
CARGO_TARGET_DIR="$beside" worker second &
second_worker=$!
workers=0
wait "$first_worker" || workers=1
wait "$second_worker" || workers=1
cp -a -n "$beside/." "$CARGO_TARGET_DIR/"
rm -rf "$beside"
[ "$workers" = 0 ] || { echo "make sam-build: a function did not build" >&2; exit 1; }
echo "the ${#bins[@]} functions built in $((SECONDS - start)) s, two at a time after the first"
start=$SECONDS
sam build --beta-features --template-file "$template" --build-dir "$build_dir"
echo "sam build in $((SECONDS - start)) s"
# The machine an ELF executable is for, from its header (e_machine).
elf_arch() {
  python3 -c 'import sys; h = open(sys.argv[1], "rb").read(20); print({62: "x86_64", 183: "arm64"}.get(int.from_bytes(h[18:20], "little"), "other") if h[:4] == b"\x7fELF" else "not ELF")' "$1"
}

# Every function of the template must have its executable, for the architecture asked.
status=0
for function in $(grep -B1 "Type: AWS::Serverless::Function" template.yaml | grep -oE "^  [A-Za-z]+Function" | tr -d ' '); do
  artefact="$build_dir/$function/bootstrap"
  if [ -f "$artefact" ] && [ "$(elf_arch "$artefact")" = "$arch" ]; then
    echo "$function: $(stat -c %s "$artefact") bytes, $arch"
  else
    echo "$function: no $arch bootstrap at infra/$artefact" >&2
    status=1
  fi
done
exit "$status"
