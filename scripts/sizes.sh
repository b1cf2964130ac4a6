#!/usr/bin/env bash
# make sizes: builds every function with the release profile (size-focused, LTO) for this
# machine and prints each executable's size. A figure to watch, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins --quiet
target_dir="${CARGO_TARGET_DIR:-target}"
printf '%-20s %12s\n' function bytes
for function in $(ls functions); do
  printf '%-20s %12s\n' "$function" "$(stat -c %s "$target_dir/release/$function")"
done
