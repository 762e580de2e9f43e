#!/bin/sh
# Reproduces the figures in docs/DURABILITY.md on a release build:
#   1. ingest events/s under each --fsync policy (median of RUNS pushes of the
#      anime stream, 419,943 events), and the ratio to `no`;
#   2. recovery time for TEN_M logged events (kill -9, restart, read the
#      "replayed the write-ahead log" line).
# Usage: docs/durability-figures.sh [throughput|recovery|all]   (from the repo root)
set -eu
BIN=${BIN:-.build/release}
DATA=${DATA:-../shared/data/anime/stream.tsv.gz}
RUNS=${RUNS:-5}
BATCH=${BATCH:-500}
TEN_M=${TEN_M:-10000000}
PER_PUSH=${PER_PUSH:-419943}  # events in $DATA
WORK=$(mktemp -d /tmp/streamrec-durability.XXXXXX)
PULL=tcp://127.0.0.1:15655 REP=tcp://127.0.0.1:15656
trap 'kill -9 $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
PID=

start() {  # start DIR FSYNC
    "$BIN/streamrecd" --data-dir "$1" --fsync "$2" --pull $PULL --rep $REP --snapshot-interval 0 \
        --replay-rate 0 --metrics off 2>>"$WORK/streamrecd.log" &
    PID=$!
    until "$BIN/streamrec" stats --rep $REP --timeout 0.2 >/dev/null 2>&1; do sleep 0.1; done
}

throughput() {
    for policy in no everysec always; do
        rates=""
        for run in $(seq "$RUNS"); do
            rm -rf "$WORK/t"; start "$WORK/t" "$policy"
            rate=$("$BIN/streamrec" push "$DATA" --batch "$BATCH" --pull $PULL --rep $REP 2>&1 | tr '\r' '\n' \
                   | sed -n 's/.* s: \([0-9]*\) events\/s.*/\1/p' | tail -1)
            kill -9 $PID; wait $PID 2>/dev/null || true
            rates="$rates $rate"
        done
        median=$(echo $rates | tr ' ' '\n' | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
        echo "fsync=$policy batch=$BATCH runs:$rates median=$median"
        eval "median_$policy=$median"
    done
    echo "ratio to no: everysec=$(echo "scale=3; $median_everysec / $median_no" | bc) always=$(echo "scale=3; $median_always / $median_no" | bc)"
}

recovery() {
    rm -rf "$WORK/r"; start "$WORK/r" everysec
    pushed=0
    while [ "$pushed" -lt "$TEN_M" ]; do
        "$BIN/streamrec" push "$DATA" --pull $PULL --rep $REP --timeout 30 >/dev/null 2>&1
        pushed=$(( pushed + PER_PUSH ))
    done
    "$BIN/streamrec" stats --rep $REP
    kill -9 $PID; wait $PID 2>/dev/null || true
    du -sh "$WORK/r"
    start "$WORK/r" everysec
    grep "replayed the write-ahead log" "$WORK/streamrecd.log" | tail -1
    "$BIN/streamrec" stats --rep $REP
    kill $PID; wait $PID 2>/dev/null || true
}

case "${1:-all}" in
    throughput) throughput ;;
    recovery) recovery ;;
    all) throughput; recovery ;;
esac
