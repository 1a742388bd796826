#!/bin/sh
# Runs every cmocka unit-test binary in BUILD/tests and fails if any fails.
build=${1:-build}
failed=0
total=0
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    total=$((total + 1))
    echo "== $(basename "$t")"
    if ! "$t"; then
        echo "FAILED: $(basename "$t")"
        failed=$((failed + 1))
    fi
done
# Fuzz targets replay their corpus (tests/fuzz/corpus/TARGET).
for t in "$build"/tests/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    total=$((total + 1))
    echo "== $name ($(ls "$corpus" 2>/dev/null | wc -l) corpus inputs)"
    if ! "$t" "$corpus"/* >/dev/null; then
        echo "FAILED: $name"
        failed=$((failed + 1))
    fi
done
# The layering of folders and worker modules (docs/design.md).
total=$((total + 1))
echo "== check_layers"
if ! "$(dirname "$0")/check_layers.sh"; then
    echo "FAILED: check_layers"
    failed=$((failed + 1))
fi
echo "unit: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
