#!/bin/sh
# SPDX-License-Identifier: MIT
# test_flood.sh FLOOD EXAMPLES_DIR: the example's alerts on its sample, with
# the default input and with the path given, are the expected ones (as a
# set of lines: with several workers, sources may come in any order).
set -eu
flood=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sort "$dir/flood.expected" > "$tmp/want"
"$flood" | sort > "$tmp/default"
"$flood" "$dir/flood.jsonl" | sort > "$tmp/given"
diff -u "$tmp/want" "$tmp/default"
diff -u "$tmp/want" "$tmp/given"
# A file that cannot be read is an error.
if "$flood" "$tmp/missing.jsonl" 2> "$tmp/err"; then
	echo "flood: a missing input did not fail" >&2
	exit 1
fi
grep -q "missing.jsonl" "$tmp/err"
