#!/bin/sh
# make check: builds the libFuzzer target of the YAML loader and fuzzes it
# for a few seconds, so that the target keeps building and the loader keeps
# surviving hostile input. Skips (77) where clang has no libFuzzer.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
FUZZ_BUILD=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_smoke.XXXXXX")
export FUZZ_BUILD
trap 'rm -rf "$FUZZ_BUILD"' EXIT
sh "$here/run.sh" "${FUZZ_SMOKE_SECONDS:-10}"
