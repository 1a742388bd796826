#!/bin/bash
# chute's Python client (python/): pip installs it into a venv (Debian's
# /usr/bin/python3, with the system's packages: kafka-python, pytest), as a
# user would after `make`, then runs its pytest suite (python/tests) twice:
# against chute-mock (the faults it injects: brokers down, a full ring,
# broker errors, the 32 report rings) and against the run's real Apache
# Kafka.  Every record is read back by kcat (librdkafka, check.crcs) and
# must be at the partition and offset its future gave.
. "$(dirname "$0")/lib.sh" "$1"
BUILD_ABS=$(cd "$BUILD" && pwd)
venv=$BUILD_ABS/pyenv
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv" ||
    fail "python3 -m venv failed (python3-venv)"
# Under `make asan` (libchute.a built with AddressSanitizer), the
# extension is built with the sanitizers too, and Python runs with their
# runtimes preloaded (make asan's ASAN_OPTIONS and UBSAN_OPTIONS apply).
if nm "$BUILD_ABS/lib/libchute.a" 2>/dev/null | grep -q __asan_; then
    export CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
    export LDFLAGS="-fsanitize=address,undefined"
    PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
fi
# --no-build-isolation: build with the system's setuptools (no download).
CHUTE_BUILD=$BUILD_ABS timeout 300 "$venv/bin/pip" install -q \
    --no-build-isolation "$LIB_TOP/python" >"$TEST_TMP/pip.log" 2>&1 ||
    { cat "$TEST_TMP/pip.log" >&2; fail "pip install ./python failed"; }
# The suite runs from a copy, away from python/, so it imports the
# installed package, not the source tree.
cp -r "$LIB_TOP/python/tests" "$TEST_TMP/pytests"
cd "$TEST_TMP/pytests" || fail "no test copy"
LD_PRELOAD=${PRELOAD:-} CHUTE_SRC=$LIB_TOP/python "$venv/bin/python" -c '
import os, sys, chute
sys.exit(chute.__file__.startswith(os.environ["CHUTE_SRC"]))' ||
    fail "the venv imports chute from the source tree"

run_suite() { # run_suite BACKEND
    LD_PRELOAD=${PRELOAD:-} CHUTE_TEST_TOP=$LIB_TOP CHUTE_TEST_BUILD=$BUILD_ABS \
        CHUTE_TEST_BACKEND=$1 \
        timeout 600 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
        -o junit_family=xunit2 . || fail "pytest against $1 failed"
}

run_suite mock
use_kafka
run_suite kafka
echo "python: the suite passed against chute-mock and Apache Kafka"
