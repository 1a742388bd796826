#!/bin/sh
# Runs every integration test script (tests/integration/test_*.sh) with the
# build directory as $1; fails if any fails.  TESTS="a b" runs a subset.
build=${1:-build}
dir=$(dirname "$0")/integration
failed=0
total=0
for t in "$dir"/test_*.sh; do
    name=$(basename "$t" .sh)
    if [ -n "$TESTS" ] && ! echo " $TESTS " | grep -q " $name "; then
        continue
    fi
    total=$((total + 1))
    echo "== $name"
    start=$(date +%s)
    if bash "$t" "$build"; then
        echo "ok: $name ($(( $(date +%s) - start )) s)"
    else
        echo "FAILED: $name"
        failed=$((failed + 1))
    fi
done
echo "integration: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
