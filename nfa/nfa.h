/* SPDX-License-Identifier: MIT */
/*
 * nfa.h: the public header of the pattern engine.
 *
 * Expressions (expr.h), patterns as written (pattern.h), and the compiled
 * automaton with its matcher.  Other modules include only this file.
 */
#ifndef NFA_NFA_H
#define NFA_NFA_H

#include "cep/cep.h"
#include "nfa/expr.h"
#include "nfa/pattern.h"
#include "nfa/prog.h"
#include "nfa/matcher.h"
#include "nfa/operator.h"

#endif
