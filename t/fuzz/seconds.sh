#!/bin/sh
# `make fuzz` takes FUZZ_SECONDS from the environment and from make's command
# line (a value set in the Makefile once overrode the environment, so
# FUZZ_SECONDS=600 make fuzz ran for 60 s). Checked with make -n: nothing is
# built or run.
set -eu
cd "${abs_top_builddir:-.}"
fail=0
env_form=$(FUZZ_SECONDS=600 ${MAKE:-make} -s -n fuzz)
case $env_form in
*"seconds='600'"*) echo "ok   - FUZZ_SECONDS=600 make fuzz runs 600 s" ;;
*) echo "FAIL - FUZZ_SECONDS=600 make fuzz: $env_form"; fail=1 ;;
esac
cmd_form=$(${MAKE:-make} -s -n fuzz FUZZ_SECONDS=7)
case $cmd_form in
*"seconds='7'"*) echo "ok   - make fuzz FUZZ_SECONDS=7 runs 7 s" ;;
*) echo "FAIL - make fuzz FUZZ_SECONDS=7: $cmd_form"; fail=1 ;;
esac
default=$(env -u FUZZ_SECONDS ${MAKE:-make} -s -n fuzz)
case $default in
*'${seconds:-60}'*) echo "ok   - make fuzz defaults to 60 s" ;;
*) echo "FAIL - make fuzz default: $default"; fail=1 ;;
esac
exit $fail
