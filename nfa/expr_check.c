/* SPDX-License-Identifier: MIT */
/*
 * expr_check.c: name resolution and static type checking.
 *
 * One pass over the AST, bottom-up: it resolves function names and the
 * steps named by aggregates, compiles the regexes of matches(), turns
 * `x == null` / `x != null` against the literal null into null tests, and
 * gives every node a static type: the set of run-time types it may have
 * (expr_impl.h).  Fields may be anything, so `amount + 1` passes; literals,
 * function and aggregate results are known, so `"a" + 1` does not.
 *
 * Type rules (a null operand is always allowed and makes the result null,
 * or false for comparisons):
 *	+            two numbers, or two strings (concatenation)
 *	- * / %      numbers;  unary - a number
 *	== !=        values of one type, or two numbers
 *	< <= > >=    two numbers or two strings (not against literal null)
 *	in, not in   the list holds constants, one comparable with the value
 *	and or not   bools (null counts as false)
 *	abs(number)  len(string|array|map)  lower(string)
 *	starts_with, ends_with, contains(string, string)
 *	matches(string, string literal: a PCRE2 regex, checked here)
 *	count(S)  sum avg min max first last(S.f)
 *
 * A condition (scope->current set: where, until) must be able to give a
 * bool; an emit value (current NULL) may be of any type.
 *
 * Every problem is reported (each with its position), not only the
 * first; the node of an ill-typed operation is then taken to be of any
 * type so one mistake does not cascade into several messages.
 */
#include <stdio.h>
#include <string.h>

#include "nfa/expr_impl.h"

static const struct {
	const char *name;
	int         op;
	int         arity;
} funcs[] = {
#define FUNC_ENTRY(name, op, arity) { name, NFA_OP_##op, arity },
	NFA_EX_FUNCS(FUNC_ENTRY)
#undef FUNC_ENTRY
};

static const char *const agg_names[] = {
#define AGG_NAME(name, op) name,
	NFA_EX_AGGS(AGG_NAME)
#undef AGG_NAME
};

/* nfa__ex_distance is the Levenshtein distance of a and b, or cap + 1
 * when it is larger (or the names are too long to bother). */
size_t
nfa__ex_distance(
    const char *a, size_t na, const char *b, size_t nb, size_t cap)
{
	size_t row[65];

	if (na > 64 || nb > 64 || (na > nb ? na - nb : nb - na) > cap) {
		return (cap + 1);
	}
	for (size_t j = 0; j <= nb; j++) {
		row[j] = j;
	}
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0], best;
		row[0]      = i;
		best        = row[0];
		for (size_t j = 1; j <= nb; j++) {
			size_t up  = row[j];
			size_t sub = diag + (a[i - 1] != b[j - 1]);
			size_t v =
			    up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
			row[j] = sub < v ? sub : v;
			diag   = up;
			best   = row[j] < best ? row[j] : best;
		}
		if (best > cap) {
			return (cap + 1);
		}
	}
	return (row[nb] > cap ? cap + 1 : row[nb]);
}

/* mask_name names a static type for messages ("int", "number", "string
 * or int"); null is left out unless it is all there is. */
static const char *
mask_name(uint8_t m, char *buf, size_t cap)
{
	uint8_t nn  = m & (uint8_t) ~EX_NULL;
	size_t  len = 0;

	if (nn == 0) {
		return ("null");
	}
	if (nn == EX_ANY - EX_NULL) {
		return ("any value");
	}
	buf[0] = '\0';
	for (int t = CEP_T_BOOL; t <= CEP_T_ARRAY; t++) {
		const char *name;
		if (!(nn & EX_M(t))) {
			continue;
		}
		if (t == CEP_T_INT && (nn & EX_DOUBLE)) {
			name = "number";
		} else if (t == CEP_T_DOUBLE && (nn & EX_INT)) {
			continue;
		} else {
			name = cep_type_name((cep_type) t);
		}
		len += (size_t) snprintf(buf + len, len < cap ? cap - len : 0,
		    "%s%s", len > 0 ? " or " : "", name);
	}
	return (buf);
}

/* single says whether a static type is exactly known (one non-null type,
 * or numbers). */
static int
known(uint8_t m)
{
	uint8_t nn = m & (uint8_t) ~EX_NULL;

	return (nn != 0 && nn != (EX_ANY & (uint8_t) ~EX_NULL));
}

static const char *
op_text(int op)
{
	switch (op) {
	case NFA_OP_ADD:
		return ("+");
	case NFA_OP_SUB:
		return ("-");
	case NFA_OP_MUL:
		return ("*");
	case NFA_OP_DIV:
		return ("/");
	case NFA_OP_MOD:
		return ("%");
	case NFA_OP_EQ:
		return ("==");
	case NFA_OP_NE:
		return ("!=");
	case NFA_OP_LT:
		return ("<");
	case NFA_OP_LE:
		return ("<=");
	case NFA_OP_GT:
		return (">");
	case NFA_OP_GE:
		return (">=");
	default:
		return ("?");
	}
}

/* pair_ok says whether some pair of non-null types of a and b suits op. */
static int
pair_ok(int op, uint8_t a, uint8_t b)
{
	int nums = (a & EX_NUM) && (b & EX_NUM);
	int strs = (a & EX_STR) && (b & EX_STR);

	switch (op) {
	case NFA_OP_ADD:
	case NFA_OP_LT:
	case NFA_OP_LE:
	case NFA_OP_GT:
	case NFA_OP_GE:
		return (nums || strs);
	case NFA_OP_EQ:
	case NFA_OP_NE:
	case NFA_OP_IN:
		return (nums || (a & b) != 0);
	default:
		return (nums);
	}
}

/* side_ok says whether a type can be one operand of op at all. */
static int
side_ok(int op, uint8_t a)
{
	switch (op) {
	case NFA_OP_ADD:
	case NFA_OP_LT:
	case NFA_OP_LE:
	case NFA_OP_GT:
	case NFA_OP_GE:
		return ((a & (EX_NUM | EX_STR)) != 0);
	case NFA_OP_EQ:
	case NFA_OP_NE:
		return (1);
	default:
		return ((a & EX_NUM) != 0);
	}
}

static int
is_ordering(int op)
{
	return (op == NFA_OP_LT || op == NFA_OP_LE || op == NFA_OP_GT ||
	    op == NFA_OP_GE);
}

/* arith_mask is the result type of arithmetic on numbers a and b. */
static uint8_t
arith_mask(uint8_t a, uint8_t b)
{
	if (!(a & EX_INT) || !(b & EX_INT)) {
		return (EX_DOUBLE);
	}
	return (EX_NUM);
}

static uint8_t check(nfa_ex_ctx *cx, nfa_ex_node *n);

/* check_binary types arithmetic and comparisons. */
static uint8_t
check_binary(nfa_ex_ctx *cx, nfa_ex_node *n)
{
	nfa_ex_node *l = n->kid[0], *r = n->kid[1];
	uint8_t      ma, mb, na, nb, res = 0;
	char         b1[48], b2[48];
	int          op = n->op;

	if ((op == NFA_OP_EQ || op == NFA_OP_NE) &&
	    (l->null_lit || r->null_lit)) {
		/* x == null tests for null: the one comparison that sees
		 * it. */
		n->kind   = EX_UNARY;
		n->op     = op == NFA_OP_EQ ? NFA_OP_ISNULL : NFA_OP_NOTNULL;
		n->kid[0] = l->null_lit ? r : l;
		n->kid[1] = NULL;
		check(cx, n->kid[0]);
		n->is_const = n->kid[0]->is_const;
		return (EX_BOOL);
	}
	ma          = check(cx, l);
	mb          = check(cx, r);
	na          = ma & (uint8_t) ~EX_NULL;
	nb          = mb & (uint8_t) ~EX_NULL;
	n->is_const = l->is_const && r->is_const;
	if (is_ordering(op) && (l->null_lit || r->null_lit)) {
		nfa__ex_error(cx, n->off,
		    "'%s' with null is always false; use == null or != null",
		    op_text(op));
		return (EX_ANY);
	}
	if (na != 0 && nb != 0 && !pair_ok(op, na, nb)) {
		const char *sa = mask_name(ma, b1, sizeof(b1));
		const char *sb = mask_name(mb, b2, sizeof(b2));
		if (!known(ma) || !known(mb)) {
			/* One side may be anything: name the other. */
			sa = mask_name(
			    side_ok(op, na) ? nb : na, b1, sizeof(b1));
			if (is_ordering(op)) {
				nfa__ex_error(cx, n->off,
				    "cannot order %s values with '%s'", sa,
				    op_text(op));
			} else {
				nfa__ex_error(cx, n->off,
				    "cannot apply '%s' to %s values",
				    op_text(op), sa);
			}
		} else if (op == NFA_OP_ADD) {
			nfa__ex_error(
			    cx, n->off, "cannot add %s and %s", sa, sb);
		} else if (op >= NFA_OP_EQ) {
			nfa__ex_error(
			    cx, n->off, "cannot compare %s with %s", sa, sb);
		} else {
			nfa__ex_error(cx, n->off,
			    "cannot apply '%s' to %s and %s", op_text(op), sa,
			    sb);
		}
		return (EX_ANY);
	}
	if (op >= NFA_OP_EQ && op <= NFA_OP_GE) {
		return (EX_BOOL);
	}
	if (na == 0 || nb == 0) {
		return (EX_NULL);
	}
	if ((na & EX_NUM) && (nb & EX_NUM)) {
		res |= arith_mask(na, nb);
	}
	if (op == NFA_OP_ADD && (na & EX_STR) && (nb & EX_STR)) {
		res |= EX_STR;
	}
	if ((ma | mb) & EX_NULL || op == NFA_OP_DIV || op == NFA_OP_MOD) {
		res |= EX_NULL;
	}
	return (res);
}

/* check_bool checks an operand of and, or, not. */
static void
check_bool(nfa_ex_ctx *cx, nfa_ex_node *k, const char *op)
{
	uint8_t m  = check(cx, k);
	uint8_t nn = m & (uint8_t) ~EX_NULL;
	char    buf[48];

	if (nn != 0 && !(nn & EX_BOOL)) {
		nfa__ex_error(cx, k->start, "'%s' needs a bool, got %s", op,
		    mask_name(m, buf, sizeof(buf)));
	}
}

/* add_regex compiles the pattern of matches() (node = the literal). */
static int
add_regex(nfa_ex_ctx *cx, const nfa_ex_node *lit, uint32_t *index)
{
	pcre2_general_context *gc;
	pcre2_compile_context *cc   = NULL;
	pcre2_code            *code = NULL;
	int                    err  = 0;
	PCRE2_SIZE             at   = 0;
	int                    jit;

	if ((gc = nfa__ex_pcre_context()) == NULL ||
	    (cc = pcre2_compile_context_create(gc)) == NULL) {
		pcre2_general_context_free(gc);
		cx->rv = CEP_ENOMEM;
		return (-1);
	}
	code = pcre2_compile((PCRE2_SPTR) lit->u.lit.u.s, lit->u.lit.len,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &at, cc);
	pcre2_compile_context_free(cc);
	pcre2_general_context_free(gc);
	if (code == NULL) {
		PCRE2_UCHAR msg[160];
		uint32_t    off = lit->off;
		if (err == PCRE2_ERROR_HEAP_FAILED ||
		    err == PCRE2_ERROR_NOMEMORY) {
			cx->rv = CEP_ENOMEM;
			return (-1);
		}
		/* Point into the literal when it has no escapes, so that
		 * offsets in the pattern are offsets in the text. */
		if (lit->len == lit->u.lit.len + 2 && at <= lit->u.lit.len) {
			off += 1 + (uint32_t) at;
		}
		pcre2_get_error_message(err, msg, sizeof(msg));
		nfa__ex_error(cx, off, "invalid regex in matches(): %s",
		    (const char *) msg);
		return (0);
	}
	jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	if (jit == PCRE2_ERROR_NOMEMORY ||
	    cep_grow(&cx->regex, &cx->regex_cap, cx->nregex + 1,
	        sizeof(pcre2_code *)) != 0) {
		/* Other JIT failures (no JIT support) leave the
		 * interpreter, which is fine. */
		pcre2_code_free(code);
		cx->rv = CEP_ENOMEM;
		return (-1);
	}
	cx->regex[cx->nregex] = code;
	*index                = (uint32_t) cx->nregex++;
	return (0);
}

/* check_call resolves a function, checks its arity and its arguments. */
static uint8_t
check_call(nfa_ex_ctx *cx, nfa_ex_node *n)
{
	const char  *name = cx->text + n->off;
	nfa_ex_node *a    = n->kid[0];
	nfa_ex_node *b    = a != NULL ? a->next : NULL;
	uint8_t      ma = 0, mb = 0, res;
	int          f = -1, bad = 0;
	char         buf[48];

	n->is_const = 1;
	for (nfa_ex_node *k = a; k != NULL; k = k->next) {
		uint8_t m = check(cx, k);
		n->is_const &= k->is_const;
		if (k == a) {
			ma = m;
		} else if (k == b) {
			mb = m;
		}
	}
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		if (strlen(funcs[i].name) == n->len &&
		    memcmp(funcs[i].name, name, n->len) == 0) {
			f = (int) i;
		}
	}
	if (f < 0) {
		const char *best = NULL;
		size_t      bd   = 3;
		for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
			size_t d = nfa__ex_distance(name, n->len,
			    funcs[i].name, strlen(funcs[i].name), 2);
			if (d < bd) {
				bd   = d;
				best = funcs[i].name;
			}
		}
		for (size_t i = 0;
		     i < sizeof(agg_names) / sizeof(agg_names[0]); i++) {
			size_t d = nfa__ex_distance(name, n->len, agg_names[i],
			    strlen(agg_names[i]), 2);
			if (d < bd) {
				bd   = d;
				best = agg_names[i];
			}
		}
		if (best != NULL) {
			nfa__ex_error(cx, n->off,
			    "unknown function '%.*s'; did you mean '%s'?",
			    (int) n->len, name, best);
		} else {
			nfa__ex_error(cx, n->off, "unknown function '%.*s'",
			    (int) n->len, name);
		}
		return (EX_ANY);
	}
	n->op = (uint8_t) funcs[f].op;
	if (n->nargs != (uint32_t) funcs[f].arity) {
		nfa__ex_error(cx, n->off, "%s() takes %d argument%s, got %u",
		    funcs[f].name, funcs[f].arity,
		    funcs[f].arity == 1 ? "" : "s", (unsigned) n->nargs);
		return (EX_ANY);
	}
#define NN(m) ((uint8_t) ((m) & (uint8_t) ~EX_NULL))
	switch (n->op) {
	case NFA_OP_ABS:
		if (NN(ma) != 0 && !(ma & EX_NUM)) {
			nfa__ex_error(cx, a->start,
			    "abs() needs a number, got %s",
			    mask_name(ma, buf, sizeof(buf)));
			return (EX_ANY);
		}
		res = (uint8_t) (((ma & EX_INT) ? EX_NUM : 0) |
		    (ma & (EX_DOUBLE | EX_NULL)));
		return (NN(ma) == 0 ? EX_NULL : res);
	case NFA_OP_LEN:
		if (NN(ma) != 0 && !(ma & (EX_STR | EX_ARRAY | EX_MAP))) {
			nfa__ex_error(cx, a->start,
			    "len() needs a string, array or map, got %s",
			    mask_name(ma, buf, sizeof(buf)));
			return (EX_ANY);
		}
		return (NN(ma) == 0 ? EX_NULL
		                    : (uint8_t) (EX_INT | (ma & EX_NULL)));
	case NFA_OP_LOWER:
		if (NN(ma) != 0 && !(ma & EX_STR)) {
			nfa__ex_error(cx, a->start,
			    "lower() needs a string, got %s",
			    mask_name(ma, buf, sizeof(buf)));
			return (EX_ANY);
		}
		return (NN(ma) == 0 ? EX_NULL
		                    : (uint8_t) (EX_STR | (ma & EX_NULL)));
	case NFA_OP_MATCH:
		n->is_const = 0;
		if (NN(ma) != 0 && !(ma & EX_STR)) {
			nfa__ex_error(cx, a->start,
			    "matches() needs a string, got %s",
			    mask_name(ma, buf, sizeof(buf)));
			bad = 1;
		}
		if (b->kind != EX_LIT || b->u.lit.type != CEP_T_STR) {
			nfa__ex_error(cx, b->start,
			    "the pattern of matches() must be a string "
			    "literal");
			return (EX_ANY);
		}
		if (add_regex(cx, b, &n->u.regex) != 0) {
			return (EX_ANY);
		}
		return (bad           ? EX_ANY
		        : NN(ma) == 0 ? EX_NULL
		                      : (uint8_t) (EX_BOOL | (ma & EX_NULL)));
	default: /* starts_with, ends_with, contains */
		if (NN(ma) != 0 && !(ma & EX_STR)) {
			nfa__ex_error(cx, a->start,
			    "%s() needs strings, got %s", funcs[f].name,
			    mask_name(ma, buf, sizeof(buf)));
			bad = 1;
		}
		if (NN(mb) != 0 && !(mb & EX_STR)) {
			nfa__ex_error(cx, b->start,
			    "%s() needs strings, got %s", funcs[f].name,
			    mask_name(mb, buf, sizeof(buf)));
			bad = 1;
		}
		if (bad) {
			return (EX_ANY);
		}
		return (NN(ma) == 0 || NN(mb) == 0
		        ? EX_NULL
		        : (uint8_t) (EX_BOOL | ((ma | mb) & EX_NULL)));
	}
#undef NN
}

/* check_agg resolves the step of an aggregate. */
static uint8_t
check_agg(nfa_ex_ctx *cx, nfa_ex_node *n)
{
	const nfa_scope *sc     = cx->scope;
	const char      *name   = cx->text + n->off;
	const char      *step   = n->u.agg.step;
	uint32_t         sl     = n->u.agg.step_len;
	size_t           nsteps = sc != NULL ? sc->nsteps : 0;
	size_t           i;

	for (i = 0; i < nsteps; i++) {
		if (strlen(sc->steps[i]) == sl &&
		    memcmp(sc->steps[i], step, sl) == 0) {
			break;
		}
	}
	if (i == nsteps) {
		const char *best = NULL;
		size_t      bd   = 3;
		for (size_t j = 0; j < nsteps; j++) {
			size_t d = nfa__ex_distance(
			    step, sl, sc->steps[j], strlen(sc->steps[j]), 2);
			if (d < bd) {
				bd   = d;
				best = sc->steps[j];
			}
		}
		if (best != NULL) {
			nfa__ex_error(cx, n->u.agg.step_off,
			    "unknown step '%.*s' in %.*s(); did you mean "
			    "'%s'?",
			    (int) sl, step, (int) n->len, name, best);
		} else {
			nfa__ex_error(cx, n->u.agg.step_off,
			    "unknown step '%.*s' in %.*s()", (int) sl, step,
			    (int) n->len, name);
		}
		return (EX_ANY);
	}
	n->u.agg.index = (uint32_t) i;
	if (sc->visible != NULL && !sc->visible[i]) {
		if (sc->current != NULL) {
			nfa__ex_error(cx, n->u.agg.step_off,
			    "step '%.*s' has no events yet where this "
			    "expression is evaluated (in step '%s')",
			    (int) sl, step, sc->current);
		} else {
			nfa__ex_error(cx, n->u.agg.step_off,
			    "step '%.*s' has no events yet where this "
			    "expression is evaluated",
			    (int) sl, step);
		}
		return (EX_ANY);
	}
	if (n->op == NFA_OP_COUNT) {
		if (n->u.agg.syms != NULL) {
			nfa__ex_error(cx, n->u.agg.step_off,
			    "count() counts the events of a step: write "
			    "count(%.*s), without a field",
			    (int) sl, step);
			return (EX_ANY);
		}
		return (EX_INT);
	}
	if (n->u.agg.syms == NULL) {
		nfa__ex_error(cx, n->u.agg.step_off,
		    "%.*s() needs a field of the step: %.*s(%.*s.field)",
		    (int) n->len, name, (int) n->len, name, (int) sl, step);
		return (EX_ANY);
	}
	switch (n->op) {
	case NFA_OP_SUM:
		return (EX_NUM);
	case NFA_OP_AVG:
		return (EX_DOUBLE | EX_NULL);
	case NFA_OP_MIN:
	case NFA_OP_MAX:
		return (EX_NUM | EX_STR | EX_NULL);
	default:
		return (EX_ANY);
	}
}

/* check_in checks `x in [...]`: constant items, one of a comparable
 * type. */
static uint8_t
check_in(nfa_ex_ctx *cx, nfa_ex_node *n)
{
	uint8_t mx = check(cx, n->kid[0]), items = 0;
	char    b1[48], b2[48];
	int     bad = 0;

	n->is_const = n->kid[0]->is_const;
	for (nfa_ex_node *k = n->kid[1]; k != NULL; k = k->next) {
		items |= check(cx, k);
		if (!k->is_const) {
			nfa__ex_error(cx, k->start,
			    "the items of a list must be constants");
			bad = 1;
		}
	}
	if (bad) {
		return (EX_ANY);
	}
	if ((mx & (uint8_t) ~EX_NULL) != 0 &&
	    (items & (uint8_t) ~EX_NULL) != 0 &&
	    !pair_ok(NFA_OP_IN, mx & (uint8_t) ~EX_NULL,
	        items & (uint8_t) ~EX_NULL)) {
		nfa__ex_error(cx, n->off, "cannot compare %s with %s",
		    mask_name(mx, b1, sizeof(b1)),
		    mask_name(items, b2, sizeof(b2)));
		return (EX_ANY);
	}
	return (EX_BOOL);
}

/* check types node n and below; returns (and records) its static type. */
static uint8_t
check(nfa_ex_ctx *cx, nfa_ex_node *n)
{
	uint8_t m = EX_ANY;
	char    buf[48];

	switch ((nfa_ex_kind) n->kind) {
	case EX_LIT:
		n->is_const = 1;
		m           = EX_M(n->u.lit.type);
		break;
	case EX_FIELD:
		m = EX_ANY;
		break;
	case EX_UNARY:
		if (n->op == NFA_OP_NOT) {
			check_bool(cx, n->kid[0], "not");
			m = EX_BOOL;
		} else { /* NEG */
			uint8_t k  = check(cx, n->kid[0]);
			uint8_t nn = k & (uint8_t) ~EX_NULL;
			if (nn != 0 && !(nn & EX_NUM)) {
				nfa__ex_error(cx, n->off,
				    "'-' needs a number, got %s",
				    mask_name(k, buf, sizeof(buf)));
			} else {
				m = nn == 0
				    ? EX_NULL
				    : (uint8_t) (((k & EX_INT) ? EX_NUM : 0) |
				          (k & (EX_DOUBLE | EX_NULL)));
			}
		}
		n->is_const = n->kid[0]->is_const;
		break;
	case EX_BINARY:
		m = check_binary(cx, n);
		break;
	case EX_AND:
	case EX_OR:
		check_bool(cx, n->kid[0], n->kind == EX_AND ? "and" : "or");
		check_bool(cx, n->kid[1], n->kind == EX_AND ? "and" : "or");
		n->is_const = n->kid[0]->is_const && n->kid[1]->is_const;
		m           = EX_BOOL;
		break;
	case EX_IN:
		m = check_in(cx, n);
		break;
	case EX_CALL:
		m = check_call(cx, n);
		break;
	case EX_AGG:
		m = check_agg(cx, n);
		break;
	}
	n->mask = m;
	return (m);
}

/* nfa__ex_check checks the tree: CEP_OK, CEP_ETYPE (every problem
 * reported) or CEP_ENOMEM. */
cep_err
nfa__ex_check(nfa_ex_ctx *cx, nfa_ex_node *root)
{
	uint32_t before = cx->nerr;
	uint8_t  m      = check(cx, root);
	char     buf[48];

	if (cx->rv != CEP_OK) {
		return (cx->rv);
	}
	if (cx->scope != NULL && cx->scope->current != NULL &&
	    cx->nerr == before && !(m & EX_BOOL)) {
		nfa__ex_error(cx, root->start,
		    "a condition must be a bool, "
		    "got %s",
		    mask_name(m, buf, sizeof(buf)));
	}
	return (cx->nerr != before ? CEP_ETYPE : CEP_OK);
}
