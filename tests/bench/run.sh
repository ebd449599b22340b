#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh [BUILD_DIR]: the end-to-end benchmarks (not run by meson test).
#
# Generates the seeded workloads (tests/bench/gen.c) into a temporary
# folder, as JSON Lines and msgpack, and prints one row per run of
# `cep run`: workload, rules, format, workers, events, events/s (from the
# summary cep prints; the best of $REPEAT runs, default 3), peak resident
# memory (the largest of those runs) and the matches found.  Then the
# derived-stream DoS rule alone over the network workload with --workers 1
# and 2 and the speed-up, and bench_matcher (the matcher alone: bytes per
# live partial match, push latency percentiles).
#
# Environment: REPEAT (runs per row), FRAUD_N, NETWORK_N, ABC_N (event
# counts; defaults 10^7, 5 * 10^6, 10^6), SEED (default 1), TMPDIR.
# Needs about 6 GB in TMPDIR at the default sizes.
set -eu

build=${1:-build}
src=$(cd "$(dirname "$0")/../.." && pwd)
gen=$build/tests/bench/gen
cep=$build/server/cep
matcher=$build/tests/bench/bench_matcher
repeat=${REPEAT:-3}
seed=${SEED:-1}

for exe in "$gen" "$cep" "$matcher"; do
	if [ ! -x "$exe" ]; then
		echo "run.sh: $exe not built (ninja -C $build)" >&2
		exit 1
	fi
done
if [ ! -x /usr/bin/time ]; then
	echo "run.sh: needs /usr/bin/time (GNU time) for peak memory" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cep-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The DoS rule of patterns/network.yaml on its own: the http_rate stream
# and the http-flood pattern (kept equal to the ones there).
cat >"$tmp/dos.yaml" <<'EOF'
streams:
  - name: http_rate
    from: events
    where: type == "http"
    key: src_ip
    window: {tumble: 1s}
    aggregate: {requests: count(), bytes: sum(bytes)}
patterns:
  - name: http-flood
    from: http_rate
    key: src_ip
    within: 3s
    skip: skip_past_last_event
    sequence:
      - begin: hot
        where: requests >= 100
        times: 3
        consecutive: true
EOF

echo "generating workloads (seed $seed) in $tmp" >&2
for w in fraud:${FRAUD_N:-10000000} network:${NETWORK_N:-5000000} \
    abc:${ABC_N:-1000000}; do
	name=${w%%:*}
	n=${w#*:}
	for ext in jsonl msgpack; do
		"$gen" "$name" -n "$n" -s "$seed" -o "$tmp/$name.$ext" \
		    2>"$tmp/$name.gen"
	done
	sed "s/^/  $name: /" "$tmp/$name.gen" >&2
done

# measure RULES INPUT WORKERS: sets $eps (best events/s), $cpu (least
# CPU time, user + system, in ns per event: what a run costs however
# busy the machine is), $rss (largest peak RSS, MB), $events and $matches
# (from the last run).
measure() {
	eps=0
	cpu=
	rss=0
	i=0
	while [ "$i" -lt "$repeat" ]; do
		/usr/bin/time -f '%U %S %M' -o "$tmp/rss" \
		    "$cep" run --workers "$3" -p "$1" -i "$2" -o "$tmp/out" \
		    2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
		line=$(grep '^cep run: [0-9]' "$tmp/err")
		events=$(echo "$line" | sed 's/^cep run: \([0-9]*\) events in.*/\1/')
		matches=$(echo "$line" | sed 's/.* \([0-9]*\) matches out.*/\1/')
		e=$(echo "$line" | sed 's/.* \([0-9]*\) events\/s$/\1/')
		r=$(($(tail -n 1 "$tmp/rss" | cut -d' ' -f3) / 1024))
		c=$(tail -n 1 "$tmp/rss" |
		    awk -v n="$events" '{ printf "%d", ($1 + $2) * 1e9 / n }')
		[ "$e" -gt "$eps" ] && eps=$e
		[ "$r" -gt "$rss" ] && rss=$r
		[ -z "$cpu" ] || [ "$c" -lt "$cpu" ] && cpu=$c
		i=$((i + 1))
	done
}

row() {
	printf '%-8s %-12s %-8s %7s %10s %10s %9s %7s %8s\n' "$@"
}

echo
echo "events/s: best of $repeat runs; cpu: user + system ns per event, least"
row workload rules format workers events events/s "cpu ns/ev" "RSS MB" \
    matches
for w in fraud:patterns/fraud.yaml network:patterns/network.yaml \
    abc:tests/bench/abc.yaml; do
	name=${w%%:*}
	rules=${w#*:}
	for ext in msgpack jsonl; do
		measure "$src/$rules" "$tmp/$name.$ext" "$(nproc)"
		row "$name" "$(basename "$rules")" "$ext" "$(nproc)" \
		    "$events" "$eps" "$cpu" "$rss" "$matches"
	done
done

echo
echo "network workload, derived-stream DoS rule alone (msgpack):"
measure "$tmp/dos.yaml" "$tmp/network.msgpack" 1
one=$eps
row network dos.yaml msgpack 1 "$events" "$eps" "$cpu" "$rss" "$matches"
measure "$tmp/dos.yaml" "$tmp/network.msgpack" 2
row network dos.yaml msgpack 2 "$events" "$eps" "$cpu" "$rss" "$matches"
echo "speed-up with 2 workers: $(echo "$eps $one" | awk '{ printf "%.2f", $1 / $2 }')"

echo
echo "matcher alone (bench_matcher):"
"$matcher" "$src/tests/bench/abc.yaml"
"$matcher" -n 2000000 "$src/patterns/fraud.yaml" "$tmp/fraud.jsonl"
