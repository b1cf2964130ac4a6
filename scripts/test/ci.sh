#!/usr/bin/env bash
# CI's run (.ci/run), on a fresh clone: the tools installed first; then the README's test
# command (make test) while the deployable is built beside it (make sam-build: an arm64
# bootstrap per function, with Debian's Rust), at the lowest CPU priority, so that it takes
# only the time the tests leave the two cores idle (waiting on the emulator, the browser);
# then each bootstrap's architecture, glibc and hardening checked and booted under qemu
# against a local Runtime API (make boot-check). Prints the time of each part, the total,
# and the size of target/ at the end (docs/builds.md quotes them).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .local
# The machine's idle time so far, in hundredths of a core-second (/proc/stat's idle field).
idle_now() { awk '/^cpu /{print $5}' /proc/stat; }
# took PART START IDLE: the part's time, and the core-minutes the machine left idle during it
# (what a better arrangement of the work could still use).
took() {
  local idle=$(( ($(idle_now) - $3) / 100 ))
  echo "$1: $(( (SECONDS - $2) / 60 )) min $(( (SECONDS - $2) % 60 )) s, $(( idle / 60 )).$(( idle % 60 / 6 )) core-min idle" \
    | tee -a .local/ci-times.txt
}
: > .local/ci-times.txt
start=$SECONDS start_idle=$(idle_now)

# What the arm64 build needs first, so that it starts at once; make test installs the rest
# (the console's npm package, chromium) while it compiles.
part=$SECONDS idle=$(idle_now)
make -s tools sam-tools arm64-toolchain
took "installs for the arm64 build" "$part" "$idle"

part=$SECONDS idle=$(idle_now)
nice -n 19 make -s sam-build > .local/sam-build.log 2>&1 &
sam_build=$!

status=0
make test || status=$?
took "make test" "$part" "$idle"

sam_status=0
wait "$sam_build" || sam_status=$?
grep -E "built together|sam build in|bytes, arm64" .local/sam-build.log || true
if [ "$sam_status" != 0 ]; then
  tail -n 40 .local/sam-build.log
  echo "make sam-build failed ($sam_status); its log: .local/sam-build.log" >&2
  status=1
fi
took "make sam-build (beside make test, until done)" "$part" "$idle"

part=$SECONDS idle=$(idle_now)
make boot-check || status=1
took "make boot-check" "$part" "$idle"

cat .local/summary
echo "target/ at the end: $(du -sh target | cut -f1)"
took "CI" "$start" "$start_idle"
exit "$status"
