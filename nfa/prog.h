/* SPDX-License-Identifier: MIT */
/*
 * prog.h: the compiled automaton of a pattern.
 *
 * nfa_prog_create turns a validated pattern into FlinkCEP's NFA: the same
 * states and TAKE / IGNORE / PROCEED edges FlinkCEP's NFACompiler builds,
 * so that matching gives FlinkCEP's results.  A program is immutable and
 * reference-counted; matchers on several threads may share it.  On reload a
 * new program replaces the old one, which is freed when its last user lets
 * go.
 */
#ifndef NFA_PROG_H
#define NFA_PROG_H

#include "cep/cep.h"
#include "nfa/pattern.h"

typedef struct nfa_prog nfa_prog;

/* Compile a pattern that passed nfa_pattern_validate.  On success the
 * program owns the pattern (refs = 1).  On failure (a pattern too large to
 * compile: CEP_ELIMIT with a diagnostic; CEP_ENOMEM) the caller keeps it. */
cep_err nfa_prog_create(nfa_pattern *p, nfa_prog **out, cep_diag *diag);
/* Reference counting; thread-safe.  unref(NULL) is a no-op. */
void nfa_prog_ref(nfa_prog *p);
void nfa_prog_unref(nfa_prog *p);

/* The pattern it was compiled from (owned by the program). */
const nfa_pattern *nfa_prog_pattern(const nfa_prog *p);
/* Number of automaton states. */
size_t nfa_prog_nstates(const nfa_prog *p);
/* A 64-bit digest of the automaton's shape and conditions: two programs
 * with equal fingerprints can run each other's saved state. */
uint64_t nfa_prog_fingerprint(const nfa_prog *p);

/* Append the automaton as a Graphviz digraph named after the pattern. */
cep_err nfa_prog_dot(const nfa_prog *p, cep_buf *out);

#endif
