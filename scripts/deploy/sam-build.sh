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
# SAM builds one function at a time (`cargo lambda build --release --arm64 --bin NAME`, for
# each in turn), and each is a link-time optimisation of its whole program on one core.
# The same command naming every function's binary at once builds the same artefacts (the
# same packages selected, so the same features and hashes) with cargo running two of those
# links at a time on two cores; each of SAM's builds then finds its binary fresh.
bins=()
for function in $(grep -A4 "BuildMethod: rust-cargolambda" "$template" | grep -oE "Binary: [a-z-]+" | cut -d' ' -f2); do
  bins+=(--bin "$function")
done
flags=(--release)
[ "$arch" = arm64 ] && flags+=(--arm64)
start=$SECONDS
(cd .. && cargo lambda build "${flags[@]}" "${bins[@]}")
echo "the $(( ${#bins[@]} / 2 )) functions built together in $((SECONDS - start)) s"
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
