#!/bin/bash
# Fault (a) with the default 5 requests in flight per connection: the same
# retriable errors as test_fault_retriable.sh; everything is delivered,
# every report is right, duplicates are byte-identical whole batches.  The
# per-key order is not checked: the mock appends batches whose sequence
# does not follow (a real broker refuses them), so no producer keeps order
# against it once an earlier in-flight batch failed.
export FAULT_IN_FLIGHT=max.in.flight.requests.per.connection=5 FAULT_NO_ORDER=1

exec bash "$(dirname "$0")/test_fault_retriable.sh" "$@"
