#!/bin/sh
# make check: builds the libFuzzer target of the YAML loader and replays its
# seed corpus (t/data/fuzz/config_yaml) once, under ASan and UBSan, so that
# the target keeps building and no input that once crashed the loader does
# again. Deterministic: random fuzzing is `make fuzz`, run by .ci/run after
# the tests. Skips (77) where clang has no libFuzzer.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
FUZZ_BUILD=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_replay.XXXXXX")
export FUZZ_BUILD
trap 'rm -rf "$FUZZ_BUILD"' EXIT
sh "$here/run.sh" replay
