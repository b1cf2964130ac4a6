#!/usr/bin/env bash
# The toolchain of the arm64 build, installed when missing: Debian's Rust (rustc-web,
# cargo-web) with its aarch64 standard library of the same version (libstd-rust-web-dev:arm64),
# the aarch64 C toolchain and libc (gcc-aarch64-linux-gnu) and qemu-user-static, which runs
# the result here. The host build and the tests keep the rustup toolchain; only the aarch64
# build uses this one. Prints the directory whose cargo and rustc the build must use.
#
# Where it cannot install (not root, not Debian or Ubuntu) it stops and says what to run.
set -euo pipefail
packages=(rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu qemu-user-static binutils-aarch64-linux-gnu)

have_toolchain() {
  [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && [ -x /usr/bin/qemu-aarch64-static ] \
    && [ -x /usr/bin/aarch64-linux-gnu-gcc ] \
    && [ -d "$(/usr/bin/rustc --print sysroot)/lib/rustlib/aarch64-unknown-linux-gnu/lib" ] \
    && same_version
}

# rustc and the arm64 standard library must be one version: a mismatch fails with E0514.
same_version() {
  local rustc std
  rustc=$(dpkg-query -W -f '${Version}' rustc-web 2>/dev/null || true)
  std=$(dpkg-query -W -f '${Version}' libstd-rust-web-dev:arm64 2>/dev/null || true)
  [ -n "$rustc" ] && [ "$rustc" = "$std" ]
}

explain() {
  cat >&2 <<MSG
The arm64 build needs Rust's standard library for aarch64-unknown-linux-gnu, an aarch64
linker and qemu-user to boot-check what it builds. $1
On Debian 12 or Ubuntu, as root:
  dpkg --add-architecture arm64 && apt-get update
  apt-get install ${packages[*]}
Elsewhere, with rustup:
  rustup target add aarch64-unknown-linux-gnu
  (cargo-lambda links with zig, which make tools installs; the boot check needs
  qemu-aarch64-static from your distribution and QEMU_LD_PREFIX naming an aarch64 sysroot)
then run ARM64_RUST=rustup make sam-build.
MSG
  exit 2
}

if ! have_toolchain; then
  [ -r /etc/debian_version ] || explain "This is not Debian or Ubuntu."
  [ "$(id -u)" = 0 ] || explain "Installing it needs root."
  echo "arm64 toolchain: installing ${packages[*]}" >&2
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -q >&2
  # One command, so that rustc-web and its arm64 standard library come at one version.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" >&2
  have_toolchain || explain "Installed, yet rustc-web and libstd-rust-web-dev:arm64 differ in version."
fi
echo /usr/bin
