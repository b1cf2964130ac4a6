#!/usr/bin/env bash
# make boot-check: every bootstrap `make sam-build` left (ARCH=arm64, the default) or
# `make sam-build-host` (ARCH=x86_64) is checked for its architecture and glibc, then
# started as Lambda starts it, under qemu-user when foreign, against a local Runtime API and
# a provisioned, seeded emulator, and must answer (scripts/deploy/boot_check.py says what).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/lib.sh
mkdir -p .local
arch="${ARCH:-arm64}"
case "$arch" in
  arm64) build_dir=infra/.aws-sam/build; scripts/deploy/arm64-toolchain.sh >/dev/null ;;
  x86_64) build_dir=infra/.aws-sam-host/build ;;
  *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac
trap stop_moto EXIT
start_moto "$(free_port)" .local/boot-moto.log
devstack up --env-file .local/boot-env >/dev/null
python scripts/deploy/boot_check.py "$build_dir" "$arch" .local/boot-env
