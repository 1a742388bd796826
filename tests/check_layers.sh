#!/bin/sh
# check_layers.sh: the source tree's layering, checked from the code.
#  1. A folder includes only headers of the folders below it
#     (docs/design.md, "Source tree").
#  2. Inside worker/, a module calls only the modules below it
#     (worker/wrk.h): data and calls go one way, ring -> batch -> request
#     -> answer -> resolution; a request up is a flag the loop acts on.
# Prints every breach and exits 1 if there is one.
cd "$(dirname "$0")/.." || exit 2
bad=0

# folder: the folders it may include from (besides itself)
allowed_includes() {
    case $1 in
    include) echo "" ;;
    common) echo "chute" ;;
    proto) echo "chute common" ;;
    shm) echo "chute common proto" ;;
    broker) echo "chute common proto shm" ;;
    worker) echo "chute common proto shm broker" ;;
    supervisor) echo "chute common proto shm broker worker" ;;
    esac
}

for dir in common proto shm broker worker supervisor; do
    ok="$dir $(allowed_includes $dir)"
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        grep -o '^#include "[a-z_]*/' "$f" | sed 's/#include "//; s|/$||' |
            sort -u | while read -r used; do
            case " $ok " in
            *" $used "*) ;;
            *) echo "layers: $f includes from $used/ (allowed: $ok)"
               echo x >>"${TMPDIR:-/tmp}/chute-layers.$$" ;;
            esac
        done
    done
done

# worker module: the modules it may call (their prefixes)
allowed_calls() {
    case $1 in
    accum) echo "producer part resolve chunk" ;;
    sender) echo "cluster producer part resolve chunk" ;;
    cluster) echo "producer part" ;;
    producer) echo "part chunk" ;;
    part) echo "chunk" ;;
    resolve) echo "chunk" ;;
    chunk) echo "" ;;
    esac
}

modules="accum sender cluster producer part resolve chunk recover shard"
for m in accum sender cluster producer part resolve chunk; do
    ok="$m $(allowed_calls $m)"
    for other in $modules; do
        case " $ok " in *" $other "*) continue ;; esac
        # calls, not mentions in comments
        hits=$(sed 's|/\*.*\*/||; s|^ *\*.*||' "worker/$m.c" |
               grep -n "\b${other}_[a-z_]*(" || true)
        if [ -n "$hits" ]; then
            echo "layers: worker/$m.c calls up into $other:"
            echo "$hits" | sed 's/^/    /'
            echo x >>"${TMPDIR:-/tmp}/chute-layers.$$"
        fi
    done
done

if [ -e "${TMPDIR:-/tmp}/chute-layers.$$" ]; then
    rm -f "${TMPDIR:-/tmp}/chute-layers.$$"
    exit 1
fi
echo "layers: ok"
