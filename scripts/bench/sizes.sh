#!/usr/bin/env bash
# make sizes: builds every function with the release profile (size-focused, LTO) for this
# machine and prints each executable's size, beside the arm64 bootstrap `make sam-build`
# left (the deployable), where there is one. A figure to watch, not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
packages=(); for function in functions/*/; do packages+=(-p "$(basename "$function")"); done
cargo build --release --quiet "${packages[@]}" --bins
target_dir="${CARGO_TARGET_DIR:-target}"
printf '%-20s %14s %14s\n' function "x86_64 bytes" "arm64 bytes"
for function in $(ls functions); do
  logical=$(grep -B6 "Binary: $function\$" infra/template.yaml | grep -oE "^  [A-Za-z]+Function" | tr -d ' ')
  arm64="infra/.aws-sam/build/$logical/bootstrap"
  printf '%-20s %14s %14s\n' "$function" "$(stat -c %s "$target_dir/release/$function")" \
    "$( [ -f "$arm64" ] && stat -c %s "$arm64" || echo "(make sam-build)")"
done
