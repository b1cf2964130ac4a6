#!/usr/bin/env bash
# make sam-build: what `sam build` makes for a deployment, an arm64 `bootstrap` per function
# under infra/.aws-sam/build/. cargo-lambda cross-compiles with zig, but Rust's standard
# library for the target must be installed with the toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
sysroot=$(rustc --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/$target/lib" ]; then
  echo "make sam-build: the Rust toolchain at $sysroot has no standard library for $target." >&2
  echo "Install it with 'rustup target add $target', then run make sam-build again." >&2
  exit 2
fi
cd infra
sam build --beta-features
# Every function of the template must have its arm64 executable.
status=0
for function in $(grep -B1 "Type: AWS::Serverless::Function" template.yaml | grep -oE "^  [A-Za-z]+Function" | tr -d ' '); do
  artefact=".aws-sam/build/$function/bootstrap"
  if [ -f "$artefact" ] && file "$artefact" | grep -q "ARM aarch64"; then
    echo "$function: $(stat -c %s "$artefact") bytes, arm64"
  else
    echo "$function: no arm64 bootstrap at infra/$artefact" >&2
    status=1
  fi
done
exit "$status"
