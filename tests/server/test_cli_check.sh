#!/bin/sh
# SPDX-License-Identifier: MIT
# test_cli_check.sh CEP SRCDIR: the `cep check` command.
#
# Every conformance case loads (exit 0, one summary line per pattern, no
# stderr); the broken files of data/ fail with exit 2 and exactly the
# diagnostics in their .expected files; usage errors exit 2.
set -u

cep=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$2" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# run ARGS...: $rc, $tmp/out, $tmp/err
run() {
	"$cep" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

ncase=0
for f in tests/conformance/*/patterns.yaml; do
	ncase=$((ncase + 1))
	run check "$f"
	[ "$rc" -eq 0 ] || bad "$f: exit $rc: $(cat "$tmp/err")"
	[ -s "$tmp/err" ] && bad "$f: stderr: $(cat "$tmp/err")"
	want=$(grep -c '^  - name:' "$f")
	got=$(wc -l <"$tmp/out")
	[ "$got" -eq "$want" ] || bad "$f: $got summary lines, want $want"
	grep -Evq '^[A-Za-z0-9_.-]+: [0-9]+ steps?, (key [^,]+|global), (within [0-9]+(ms|s|m|h|d)|no within), skip [a-z_]+( [A-Za-z0-9_-]+)?, [0-9]+ states$' "$tmp/out" &&
		bad "$f: malformed summary: $(cat "$tmp/out")"
done
[ "$ncase" -ge 70 ] || bad "only $ncase conformance cases found"

# A directory is the union of its files.
run check tests/conformance/docs-skip-to-first-abc
[ "$rc" -eq 0 ] || bad "directory: exit $rc"
[ "$(cat "$tmp/out")" = "p: 4 steps, global, no within, skip skip_to_first c_star, 7 states" ] ||
	bad "directory: $(cat "$tmp/out")"

# --dot draws each automaton as a Graphviz digraph.
run check --dot tests/conformance/not-next/patterns.yaml
[ "$rc" -eq 0 ] || bad "--dot: exit $rc: $(cat "$tmp/err")"
grep -q '^digraph "p" {$' "$tmp/out" || bad "--dot: no digraph: $(cat "$tmp/out")"
grep -q 'shape=doublecircle' "$tmp/out" || bad "--dot: no final state"
grep -q 'Mcircle' "$tmp/out" || bad "--dot: no stop state for not_next"
grep -q '\-> s[0-9]* \[label="take: name == \\"a\\"' "$tmp/out" ||
	bad "--dot: no take edge labelled with its condition"
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$tmp/out" >/dev/null 2>&1 || bad "--dot: graphviz refuses it"
fi

run check tests/server/data/good.yaml
[ "$rc" -eq 0 ] || bad "good.yaml: exit $rc: $(cat "$tmp/err")"
diff -u tests/server/data/good.expected "$tmp/out" >&2 || bad "good.yaml summary"

for f in tests/server/data/bad-*.yaml; do
	run check "$f"
	[ "$rc" -eq 2 ] || bad "$f: exit $rc, want 2"
	[ -s "$tmp/out" ] && bad "$f: stdout: $(cat "$tmp/out")"
	diff -u "${f%.yaml}.expected" "$tmp/err" >&2 || bad "$f: diagnostics"
done

run check /nonexistent/rules.yaml
[ "$rc" -eq 2 ] || bad "missing file: exit $rc"
[ "$(cat "$tmp/err")" = "/nonexistent/rules.yaml: error: cannot read: No such file or directory" ] ||
	bad "missing file: $(cat "$tmp/err")"

# Usage.
run
[ "$rc" -eq 2 ] && [ -s "$tmp/err" ] || bad "no command: exit $rc"
run frobnicate
[ "$rc" -eq 2 ] && grep -q "unknown command 'frobnicate'" "$tmp/err" ||
	bad "unknown command: exit $rc"
run check
[ "$rc" -eq 2 ] && grep -q '^usage: cep check PATTERNS' "$tmp/err" ||
	bad "check without PATTERNS: exit $rc"
run check a.yaml b.yaml
[ "$rc" -eq 2 ] || bad "check with two paths: exit $rc"
run --help
[ "$rc" -eq 0 ] && grep -q 'check PATTERNS' "$tmp/out" || bad "--help: exit $rc"
run --version
[ "$rc" -eq 0 ] && grep -Eq '^cep [0-9]+\.[0-9]+' "$tmp/out" ||
	bad "--version: exit $rc"

[ "$fail" -eq 0 ] && echo "ok: $ncase conformance cases and the data files"
exit "$fail"
