/* SPDX-License-Identifier: MIT */
/*
 * expr_compile.c: from checked AST to a flat program, and the public
 * entry points that drive the stages.
 *
 * Constant folding runs first, bottom-up, with the evaluator's own
 * operations (so `2 * 3`, `"a" + "b"`, `-9223372036854775808` and
 * `x in [1 + 1]` cannot fold differently from how they would run):
 * an operation whose operands are all literals becomes a literal;
 * `true or E` is true, `false and E` false, `true and E` and `false or E`
 * are E made a bool.  Operations that would fail at run time are left for
 * the run time.  matches() is never folded.
 *
 * Code generation is a post-order walk emitting fixed-size instructions
 * into one array; and/or compile to a conditional forward jump over their
 * right side.  A top-level field compared with a literal becomes one FCMP
 * instruction.  The stack depth is tracked while emitting and stored as
 * max_stack; nfa__ex_verify then checks every jump target, operand index
 * and the stack discipline once, so the evaluator trusts the program.
 */
#include <string.h>

#include "nfa/expr_impl.h"

const nfa_ex_opinfo nfa__ex_ops[NFA_OP__COUNT] = {
#define OP_INFO(name, pops, pushes) { #name, pops, pushes },
	NFA_EX_OPS(OP_INFO)
#undef OP_INFO
};

/*
 * Folding
 */

typedef struct folder {
	nfa_ex_ctx  *cx;
	nfa_scratch *s; /* created on first need */
} folder;

/* become_lit turns node n into a literal of value v (strings are copied
 * to the arena: v may point into the folder's scratch). */
static cep_err
become_lit(folder *f, nfa_ex_node *n, const cep_val *v)
{
	cep_val lit = *v;

	if (v->type == CEP_T_STR) {
		char *p = nfa__ex_alloc(f->cx, (size_t) v->len + 1);
		if (p == NULL) {
			return (CEP_ENOMEM);
		}
		memcpy(p, v->u.s, v->len);
		p[v->len] = '\0';
		lit.u.s   = p;
	}
	n->kind     = EX_LIT;
	n->op       = 0;
	n->kid[0]   = NULL;
	n->kid[1]   = NULL;
	n->nargs    = 0;
	n->null_lit = 0;
	n->is_const = 1;
	n->mask     = EX_M(lit.type);
	n->u.lit    = lit;
	return (CEP_OK);
}

/* become_bool makes n its right operand r taken as a bool (and/or with a
 * constant left side). */
static void
become_bool(nfa_ex_node *n, nfa_ex_node *r)
{
	nfa_ex_node *next  = n->next;
	uint32_t     start = n->start;

	if (r->mask == EX_BOOL) {
		*n = *r;
	} else {
		n->kind   = EX_UNARY;
		n->op     = NFA_OP_TOBOOL;
		n->kid[0] = r;
		n->kid[1] = NULL;
		n->mask   = EX_BOOL;
	}
	n->next  = next;
	n->start = start;
}

static int
is_lit(const nfa_ex_node *n)
{
	return (n != NULL && n->kind == EX_LIT);
}

/* apply folds n when its operands are literals. */
static cep_err
apply(folder *f, nfa_ex_node *n)
{
	cep_val v;
	cep_err rv;

	if (f->s == NULL && (f->s = nfa_scratch_create()) == NULL) {
		return (CEP_ENOMEM);
	}
	switch ((nfa_ex_kind) n->kind) {
	case EX_UNARY:
		rv = nfa__ex_unary(n->op, &n->kid[0]->u.lit, &v, f->s);
		break;
	case EX_BINARY:
		rv = nfa__ex_binary(
		    n->op, &n->kid[0]->u.lit, &n->kid[1]->u.lit, &v, f->s);
		break;
	case EX_CALL:
		if (n->nargs == 1) {
			rv = nfa__ex_unary(n->op, &n->kid[0]->u.lit, &v, f->s);
		} else {
			rv = nfa__ex_binary(n->op, &n->kid[0]->u.lit,
			    &n->kid[0]->next->u.lit, &v, f->s);
		}
		break;
	case EX_IN: {
		const cep_val *x     = &n->kid[0]->u.lit;
		int            found = 0;
		for (nfa_ex_node *k = n->kid[1]; k != NULL; k = k->next) {
			found |= cep_val_equal(x, &k->u.lit);
		}
		v  = cep_val_bool(x->type != CEP_T_NULL &&
		     (n->op == NFA_OP_IN ? found : !found));
		rv = CEP_OK;
		break;
	}
	default:
		return (CEP_OK);
	}
	if (rv == CEP_ENOMEM) {
		return (rv);
	}
	if (rv != CEP_OK) {
		return (CEP_OK); /* it will fail at run time, as it should */
	}
	return (become_lit(f, n, &v));
}

/* fold folds node n and below. */
static cep_err
fold(folder *f, nfa_ex_node *n)
{
	cep_err rv;
	int     all = 1;

	switch ((nfa_ex_kind) n->kind) {
	case EX_LIT:
	case EX_FIELD:
	case EX_AGG:
		return (CEP_OK);
	case EX_AND:
	case EX_OR:
		if ((rv = fold(f, n->kid[0])) != CEP_OK ||
		    (rv = fold(f, n->kid[1])) != CEP_OK) {
			return (rv);
		}
		if (is_lit(n->kid[0]) &&
		    (n->kid[0]->u.lit.type == CEP_T_BOOL ||
		        n->kid[0]->u.lit.type == CEP_T_NULL)) {
			int l = n->kid[0]->u.lit.type == CEP_T_BOOL &&
			    n->kid[0]->u.lit.u.b;
			int decided = n->kind == EX_AND ? !l : l;
			if (decided) {
				cep_val b = cep_val_bool(l);
				return (become_lit(f, n, &b));
			}
			become_bool(n, n->kid[1]);
			if (n->kind == EX_UNARY && is_lit(n->kid[0])) {
				return (apply(f, n));
			}
		}
		return (CEP_OK);
	case EX_UNARY:
	case EX_BINARY:
	case EX_CALL:
	case EX_IN:
		break;
	}
	for (int i = 0; i < 2; i++) {
		for (nfa_ex_node *k = n->kid[i]; k != NULL; k = k->next) {
			if ((rv = fold(f, k)) != CEP_OK) {
				return (rv);
			}
			all &= is_lit(k);
			if (n->kind != EX_CALL && n->kind != EX_IN) {
				break; /* one operand per kid */
			}
		}
	}
	if (n->kind == EX_IN) {
		for (nfa_ex_node *k = n->kid[1]; k != NULL; k = k->next) {
			if (!is_lit(k)) {
				nfa__ex_error(f->cx, k->start,
				    "this list item cannot be computed at "
				    "load time");
				return (CEP_ETYPE);
			}
		}
	}
	if (!all || (n->kind == EX_CALL && n->op == NFA_OP_MATCH)) {
		return (CEP_OK);
	}
	return (apply(f, n));
}

/*
 * Code generation
 */

typedef struct gen {
	nfa_ex_ctx *cx;
	nfa_expr   *e;
	uint32_t    depth; /* values on the stack at this point */
} gen;

/* emit appends an instruction; its index, or -1 when memory is short. */
static long
emit(gen *g, int op, int k, uint32_t a, uint32_t b, uint32_t c)
{
	nfa_expr   *e = g->e;
	nfa_ex_ins *in;

	if (cep_grow(&e->code, &e->code_cap, e->ncode + 1, sizeof(*in)) != 0) {
		return (-1);
	}
	in = &e->code[e->ncode];
	memset(in, 0, sizeof(*in));
	in->op = (uint8_t) op;
	in->k  = (uint8_t) k;
	in->a  = a;
	in->b  = b;
	in->c  = c;
	g->depth -= nfa__ex_ops[op].pops;
	g->depth += nfa__ex_ops[op].pushes;
	if (g->depth > e->max_stack) {
		e->max_stack = g->depth;
	}
	return ((long) e->ncode++);
}

/* add_const appends a constant, owning a copy of its string. */
static long
add_const(gen *g, const cep_val *v)
{
	nfa_expr *e = g->e;
	cep_val   c = *v;

	if (cep_grow(&e->consts, &e->consts_cap, e->nconsts + 1,
	        sizeof(cep_val)) != 0) {
		return (-1);
	}
	if (c.type == CEP_T_STR &&
	    (c.u.s = cep_strndup(v->u.s, v->len)) == NULL) {
		return (-1);
	}
	e->consts[e->nconsts] = c;
	return ((long) e->nconsts++);
}

static long
add_path(gen *g, const cep_sym *syms, uint32_t n)
{
	nfa_expr *e = g->e;

	if (cep_grow(&e->paths, &e->paths_cap, e->npaths + n,
	        sizeof(cep_sym)) != 0) {
		return (-1);
	}
	memcpy(e->paths + e->npaths, syms, n * sizeof(cep_sym));
	e->npaths += n;
	return ((long) (e->npaths - n));
}

static int
flip(int op)
{
	switch (op) {
	case NFA_OP_LT:
		return (NFA_OP_GT);
	case NFA_OP_LE:
		return (NFA_OP_GE);
	case NFA_OP_GT:
		return (NFA_OP_LT);
	case NFA_OP_GE:
		return (NFA_OP_LE);
	default:
		return (op);
	}
}

static int
is_field1(const nfa_ex_node *n)
{
	return (n->kind == EX_FIELD && n->u.path.n == 1);
}

/* emit_fcmp emits a top-level field compared with a literal (either
 * side) as one FCMP. */
static int
emit_fcmp(gen *g, const nfa_ex_node *n)
{
	const nfa_ex_node *l = n->kid[0], *r = n->kid[1];
	const nfa_ex_node *f   = is_lit(l) ? r : l;
	const cep_val     *k   = is_lit(l) ? &l->u.lit : &r->u.lit;
	int                op  = is_lit(l) ? flip(n->op) : n->op;
	const int64_t      lim = INT64_C(1) << 53;
	uint32_t           exact;
	long               c;

	exact = k->type == CEP_T_INT && k->u.i < lim && k->u.i > -lim;
	if ((c = add_const(g, k)) < 0 ||
	    emit(g, NFA_OP_FCMP, op, f->u.path.syms[0], (uint32_t) c, exact) <
	        0) {
		return (-1);
	}
	return (0);
}

/* generate emits the code of node n: it leaves one value on the stack.
 * Returns 0, or -1 when memory is short. */
static int
generate(gen *g, const nfa_ex_node *n)
{
	const nfa_ex_node *k;
	long               c, j;
	int                op = n->op;

	switch ((nfa_ex_kind) n->kind) {
	case EX_LIT:
		if ((c = add_const(g, &n->u.lit)) < 0) {
			return (-1);
		}
		return (
		    emit(g, NFA_OP_CONST, 0, (uint32_t) c, 0, 0) < 0 ? -1 : 0);
	case EX_FIELD:
		if (n->u.path.n == 1) {
			j = emit(g, NFA_OP_FIELD, 0, n->u.path.syms[0], 0, 0);
			return (j < 0 ? -1 : 0);
		}
		if ((c = add_path(g, n->u.path.syms, n->u.path.n)) < 0) {
			return (-1);
		}
		j = emit(g, NFA_OP_PATH, 0, (uint32_t) c, 0, n->u.path.n);
		return (j < 0 ? -1 : 0);
	case EX_UNARY:
		if (generate(g, n->kid[0]) != 0) {
			return (-1);
		}
		if (op == NFA_OP_TOBOOL && n->kid[0]->mask == EX_BOOL) {
			return (0);
		}
		return (emit(g, op, 0, 0, 0, 0) < 0 ? -1 : 0);
	case EX_BINARY:
		if (op >= NFA_OP_EQ && op <= NFA_OP_GE &&
		    ((is_field1(n->kid[0]) && is_lit(n->kid[1])) ||
		        (is_lit(n->kid[0]) && is_field1(n->kid[1])))) {
			return (emit_fcmp(g, n));
		}
		if (generate(g, n->kid[0]) != 0 ||
		    generate(g, n->kid[1]) != 0) {
			return (-1);
		}
		return (emit(g, op, 0, 0, 0, 0) < 0 ? -1 : 0);
	case EX_AND:
	case EX_OR:
		op = n->kind == EX_AND ? NFA_OP_ANDJ : NFA_OP_ORJ;
		if (generate(g, n->kid[0]) != 0 ||
		    (j = emit(g, op, 0, 0, 0, 0)) < 0 ||
		    generate(g, n->kid[1]) != 0) {
			return (-1);
		}
		if (n->kid[1]->mask != EX_BOOL &&
		    emit(g, NFA_OP_TOBOOL, 0, 0, 0, 0) < 0) {
			return (-1);
		}
		g->e->code[j].a = (uint32_t) g->e->ncode; /* past the right */
		return (0);
	case EX_IN:
		if (generate(g, n->kid[0]) != 0) {
			return (-1);
		}
		j = (long) g->e->nconsts;
		for (k = n->kid[1]; k != NULL; k = k->next) {
			if (add_const(g, &k->u.lit) < 0) {
				return (-1);
			}
		}
		c = emit(g, op, 0, (uint32_t) j, n->nargs, 0);
		return (c < 0 ? -1 : 0);
	case EX_CALL:
		for (k = n->kid[0]; k != NULL; k = k->next) {
			if (generate(g, k) != 0) {
				return (-1);
			}
			if (op == NFA_OP_MATCH) {
				break; /* the regex is not on the stack */
			}
		}
		c = emit(g, op, 0, op == NFA_OP_MATCH ? n->u.regex : 0, 0, 0);
		return (c < 0 ? -1 : 0);
	case EX_AGG:
		c = 0;
		if (n->u.agg.syms != NULL &&
		    (c = add_path(g, n->u.agg.syms, n->u.agg.n)) < 0) {
			return (-1);
		}
		g->e->uses_steps = 1;
		j = emit(g, op, 0, n->u.agg.index, (uint32_t) c, n->u.agg.n);
		return (j < 0 ? -1 : 0);
	}
	return (-1);
}

/*
 * Verification
 */

/* nfa__ex_verify checks a program once after it is built: opcodes and
 * operands in range, jumps forward inside the program, the stack depth
 * the same on every path into an instruction, never below what an
 * instruction pops nor above max_stack, and one HALT, last, with one
 * value.  CEP_EINTERNAL means a compiler bug. */
cep_err
nfa__ex_verify(const nfa_expr *e)
{
	uint32_t *at; /* depth + 1 expected at each instruction; 0: none */
	uint32_t  depth = 0;
	int       live  = 1;
	cep_err   rv    = CEP_EINTERNAL;

	if (e->ncode == 0 || e->max_stack > NFA_EX_STACK_MAX ||
	    e->code[e->ncode - 1].op != NFA_OP_HALT) {
		return (CEP_EINTERNAL);
	}
	if ((at = cep_calloc(e->ncode, sizeof(*at))) == NULL) {
		return (CEP_ENOMEM);
	}
	for (size_t pc = 0; pc < e->ncode; pc++) {
		const nfa_ex_ins *in = &e->code[pc];

		if (at[pc] != 0) {
			if (live && depth != at[pc] - 1) {
				goto out;
			}
			depth = at[pc] - 1;
			live  = 1;
		}
		if (!live || in->op >= NFA_OP__COUNT ||
		    depth < nfa__ex_ops[in->op].pops) {
			goto out;
		}
		switch ((nfa_ex_op) in->op) {
		case NFA_OP_HALT:
			if (pc != e->ncode - 1 || depth != 1) {
				goto out;
			}
			break;
		case NFA_OP_CONST:
			if (in->a >= e->nconsts) {
				goto out;
			}
			break;
		case NFA_OP_FIELD:
			if (in->a == CEP_SYM_NONE) {
				goto out;
			}
			break;
		case NFA_OP_FCMP:
			if (in->a == CEP_SYM_NONE || in->b >= e->nconsts ||
			    in->k < NFA_OP_EQ || in->k > NFA_OP_GE) {
				goto out;
			}
			break;
		case NFA_OP_IN:
		case NFA_OP_NOTIN:
			if (in->b == 0 || in->a > e->nconsts ||
			    in->b > e->nconsts - in->a) {
				goto out;
			}
			break;
		case NFA_OP_ANDJ:
		case NFA_OP_ORJ:
			/* Jumping, it leaves one value where it took one. */
			if (in->a <= pc || in->a >= e->ncode ||
			    (at[in->a] != 0 && at[in->a] != depth + 1)) {
				goto out;
			}
			at[in->a] = depth + 1;
			break;
		case NFA_OP_MATCH:
			if (in->a >= e->nregex) {
				goto out;
			}
			break;
		case NFA_OP_COUNT:
			if (in->a >= e->nsteps) {
				goto out;
			}
			break;
		case NFA_OP_PATH:
			if (in->c == 0 || in->a > e->npaths ||
			    in->c > e->npaths - in->a) {
				goto out;
			}
			break;
		case NFA_OP_SUM:
		case NFA_OP_AVG:
		case NFA_OP_MIN:
		case NFA_OP_MAX:
		case NFA_OP_FIRST:
		case NFA_OP_LAST:
			if (in->c == 0 || in->b > e->npaths ||
			    in->c > e->npaths - in->b || in->a >= e->nsteps) {
				goto out;
			}
			break;
		default:
			break;
		}
		depth -= nfa__ex_ops[in->op].pops;
		depth += nfa__ex_ops[in->op].pushes;
		if (depth > e->max_stack) {
			goto out;
		}
		live = in->op != NFA_OP_HALT;
	}
	rv = CEP_OK;
out:
	cep_free(at, e->ncode * sizeof(*at));
	return (rv);
}

/*
 * Public entry points
 */

void
nfa_expr_destroy(nfa_expr *e)
{
	if (e == NULL) {
		return;
	}
	for (size_t i = 0; i < e->nconsts; i++) {
		if (e->consts[i].type == CEP_T_STR) {
			cep_free((void *) (uintptr_t) e->consts[i].u.s,
			    (size_t) e->consts[i].len + 1);
		}
	}
	for (size_t i = 0; i < e->nregex; i++) {
		pcre2_code_free(e->regex[i]);
	}
	cep_free(e->regex, e->regex_cap * sizeof(pcre2_code *));
	cep_free(e->code, e->code_cap * sizeof(nfa_ex_ins));
	cep_free(e->consts, e->consts_cap * sizeof(cep_val));
	cep_free(e->paths, e->paths_cap * sizeof(cep_sym));
	cep_free(e->text, e->text_len + 1);
	cep_free(e, sizeof(*e));
}

/* build folds, generates and verifies; the regexes move to e. */
static cep_err
build(nfa_ex_ctx *cx, nfa_ex_node *root, nfa_expr *e)
{
	folder  f = { cx, NULL };
	gen     g = { cx, e, 0 };
	cep_err rv;

	rv = fold(&f, root);
	nfa_scratch_destroy(f.s);
	if (rv != CEP_OK) {
		return (rv);
	}
	e->regex      = cx->regex;
	e->nregex     = cx->nregex;
	e->regex_cap  = cx->regex_cap;
	cx->regex     = NULL;
	cx->nregex    = 0;
	cx->regex_cap = 0;
	e->nsteps     = cx->scope != NULL ? (uint32_t) cx->scope->nsteps : 0;
	if (generate(&g, root) != 0 || emit(&g, NFA_OP_HALT, 0, 0, 0, 0) < 0) {
		return (CEP_ENOMEM);
	}
	e->is_true = root->kind == EX_LIT && root->u.lit.type == CEP_T_BOOL &&
	    root->u.lit.u.b;
	return (nfa__ex_verify(e));
}

cep_err
nfa_expr_compile(const char *text, size_t len, const nfa_scope *scope,
    nfa_expr **out, cep_diag *diag)
{
	nfa_ex_ctx   cx;
	nfa_expr    *e;
	nfa_ex_node *root = NULL;
	cep_err      rv;

	if ((text == NULL && len > 0) || out == NULL ||
	    (scope != NULL && scope->nsteps > 0 && scope->steps == NULL)) {
		return (CEP_EINVAL);
	}
	memset(&cx, 0, sizeof(cx));
	cx.text  = text != NULL ? text : "";
	cx.len   = (uint32_t) len;
	cx.scope = scope;
	cx.diag  = diag;
	if (scope != NULL) {
		cx.loc = scope->loc;
	}
	if (cx.loc.line == 0) {
		cx.loc.line = 1;
	}
	if (cx.loc.col == 0) {
		cx.loc.col = 1;
	}
	if (len >= UINT32_MAX) {
		cx.len = 0;
		nfa__ex_error(&cx, 0, "expression longer than 4 GiB");
		return (CEP_EPARSE);
	}
	if ((e = cep_zalloc(sizeof(*e))) == NULL ||
	    (e->text = cep_strndup(cx.text, len)) == NULL) {
		nfa_expr_destroy(e);
		return (CEP_ENOMEM);
	}
	e->text_len = len;
	if ((rv = nfa__ex_parse(&cx, &root)) == CEP_OK &&
	    (rv = nfa__ex_check(&cx, root)) == CEP_OK) {
		rv = build(&cx, root, e);
	}
	nfa__ex_arena_free(&cx);
	for (size_t i = 0; i < cx.nregex; i++) {
		pcre2_code_free(cx.regex[i]);
	}
	cep_free(cx.regex, cx.regex_cap * sizeof(pcre2_code *));
	if (rv != CEP_OK) {
		nfa_expr_destroy(e);
		return (rv);
	}
	*out = e;
	return (CEP_OK);
}

const char *
nfa_expr_text(const nfa_expr *e)
{
	return (e->text);
}

int
nfa_expr_uses_steps(const nfa_expr *e)
{
	return (e->uses_steps);
}

int
nfa_expr_is_true(const nfa_expr *e)
{
	return (e->is_true);
}
