/* SPDX-License-Identifier: MIT */
/*
 * expr_impl.h: declarations shared by the expression compiler's files.
 *
 * Text goes through four stages, one file each:
 *
 *	expr_parse.c    lexer and recursive-descent parser -> AST (arena)
 *	expr_check.c    step names, functions, regexes and static types
 *	expr_compile.c  constant folding, AST -> flat program, verification
 *	expr_eval.c     the stack machine, the scratch arena, run-time ops
 *
 * The AST lives in an arena owned by the compile context and dies with it;
 * the program (nfa_expr) owns copies of everything it keeps.  The key
 * invariant of a program: every jump goes forward to an instruction of the
 * same program, every operand indexes a table of that program, and the
 * stack never holds more than max_stack values; nfa__ex_verify checks
 * this once after compiling, so the evaluator checks nothing.
 */
#ifndef NFA_EXPR_IMPL_H
#define NFA_EXPR_IMPL_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cep/cep.h"
#include "nfa/expr.h"

/* Nesting limit: parentheses, unary operators, arguments and the height
 * of operator chains (a + b + ... is as deep as it is long).  It keeps
 * the recursive passes far from the end of the C stack. */
#define NFA_EX_MAX_DEPTH 256u
/* Value stack of the evaluator: one value per level of nesting, plus the
 * two arguments of a function at the deepest level. */
#define NFA_EX_STACK_MAX (NFA_EX_MAX_DEPTH + 4u)
/* Components of a field path (a.b.c); events nest at most 64 deep. */
#define NFA_EX_MAX_PATH 64u

/*
 * Static types are sets of run-time types (bit 1 << cep_type): a field may
 * be anything, len() is an int or null, a literal is exactly its type.  An
 * operation is a load-time error when no pair of possible non-null types
 * suits it.
 */
#define EX_M(t) ((uint8_t) (1u << (t)))
#define EX_NULL EX_M(CEP_T_NULL)
#define EX_BOOL EX_M(CEP_T_BOOL)
#define EX_INT EX_M(CEP_T_INT)
#define EX_DOUBLE EX_M(CEP_T_DOUBLE)
#define EX_STR EX_M(CEP_T_STR)
#define EX_MAP EX_M(CEP_T_MAP)
#define EX_ARRAY EX_M(CEP_T_ARRAY)
#define EX_NUM ((uint8_t) (EX_INT | EX_DOUBLE))
#define EX_ANY ((uint8_t) 0x7f)

/*
 * Opcodes: X(name, pops, pushes).  The doc comment of each is above its
 * case in expr_eval.c.  ANDJ and ORJ push their result only when they
 * jump; on the fall-through path the right operand supplies it.
 */
#define NFA_EX_OPS(X)     \
	X(HALT, 1, 0)     \
	X(CONST, 0, 1)    \
	X(FIELD, 0, 1)    \
	X(PATH, 0, 1)     \
	X(FCMP, 0, 1)     \
	X(NEG, 1, 1)      \
	X(NOT, 1, 1)      \
	X(TOBOOL, 1, 1)   \
	X(ISNULL, 1, 1)   \
	X(NOTNULL, 1, 1)  \
	X(ADD, 2, 1)      \
	X(SUB, 2, 1)      \
	X(MUL, 2, 1)      \
	X(DIV, 2, 1)      \
	X(MOD, 2, 1)      \
	X(EQ, 2, 1)       \
	X(NE, 2, 1)       \
	X(LT, 2, 1)       \
	X(LE, 2, 1)       \
	X(GT, 2, 1)       \
	X(GE, 2, 1)       \
	X(IN, 1, 1)       \
	X(NOTIN, 1, 1)    \
	X(ANDJ, 1, 0)     \
	X(ORJ, 1, 0)      \
	X(ABS, 1, 1)      \
	X(LEN, 1, 1)      \
	X(LOWER, 1, 1)    \
	X(STARTS, 2, 1)   \
	X(ENDS, 2, 1)     \
	X(CONTAINS, 2, 1) \
	X(MATCH, 1, 1)    \
	X(COUNT, 0, 1)    \
	X(SUM, 0, 1)      \
	X(AVG, 0, 1)      \
	X(MIN, 0, 1)      \
	X(MAX, 0, 1)      \
	X(FIRST, 0, 1)    \
	X(LAST, 0, 1)

typedef enum nfa_ex_op {
#define NFA__EX_OP_ENUM(name, pops, pushes) NFA_OP_##name,
	NFA_EX_OPS(NFA__EX_OP_ENUM)
#undef NFA__EX_OP_ENUM
	    NFA_OP__COUNT
} nfa_ex_op;

/* Name and stack effect of each opcode (expr_compile.c). */
typedef struct nfa_ex_opinfo {
	const char *name;
	uint8_t     pops;
	uint8_t     pushes;
} nfa_ex_opinfo;
extern const nfa_ex_opinfo nfa__ex_ops[NFA_OP__COUNT];

/*
 * One instruction: 16 bytes, operands are indexes.
 *	CONST a=constant   FIELD a=sym   PATH a=first path entry, c=length
 *	FCMP k=EQ..GE a=sym b=constant (field compared with a constant)
 *	     c=1 when the constant is an int a double holds exactly
 *	IN, NOTIN a=first constant b=count   ANDJ, ORJ a=target
 *	MATCH a=regex      COUNT..LAST a=step b=first path entry c=length
 */
typedef struct nfa_ex_ins {
	uint8_t  op;
	uint8_t  k;
	uint16_t pad;
	uint32_t a;
	uint32_t b;
	uint32_t c;
} nfa_ex_ins;

struct nfa_expr {
	nfa_ex_ins  *code;
	size_t       ncode, code_cap;
	cep_val     *consts; /* strings are owned (cep_strndup'ed) */
	size_t       nconsts, consts_cap;
	cep_sym     *paths;
	size_t       npaths, paths_cap;
	pcre2_code **regex;
	size_t       nregex, regex_cap;
	char        *text; /* text_len + 1 bytes */
	size_t       text_len;
	uint32_t     max_stack;
	uint32_t     nsteps; /* of the scope, to verify step operands */
	uint8_t      uses_steps;
	uint8_t      is_true;
};

/* Functions on values: X(name, opcode, arity). */
#define NFA_EX_FUNCS(X)             \
	X("abs", ABS, 1)            \
	X("len", LEN, 1)            \
	X("lower", LOWER, 1)        \
	X("starts_with", STARTS, 2) \
	X("ends_with", ENDS, 2)     \
	X("contains", CONTAINS, 2)  \
	X("matches", MATCH, 2)

/* Aggregates over a step's events: X(name, opcode). */
#define NFA_EX_AGGS(X)    \
	X("count", COUNT) \
	X("sum", SUM)     \
	X("avg", AVG)     \
	X("min", MIN)     \
	X("max", MAX)     \
	X("first", FIRST) \
	X("last", LAST)

/* AST node kinds. */
typedef enum nfa_ex_kind {
	EX_LIT,    /* u.lit */
	EX_FIELD,  /* u.path */
	EX_UNARY,  /* op NEG, NOT, ISNULL, NOTNULL, TOBOOL on kid[0] */
	EX_BINARY, /* op ADD..GE on kid[0], kid[1] */
	EX_AND,    /* kid[0] and kid[1] */
	EX_OR,     /* kid[0] or kid[1] */
	EX_IN,     /* op IN or NOTIN: kid[0] in list kid[1] (nargs items) */
	EX_CALL,   /* name at off/len; args from kid[0] (nargs) */
	EX_AGG,    /* op COUNT..LAST; u.agg */
} nfa_ex_kind;

typedef struct nfa_ex_node nfa_ex_node;
struct nfa_ex_node {
	uint8_t      kind;
	uint8_t      op;
	uint8_t      mask;     /* possible types, set by the checker */
	uint8_t      is_const; /* no field or aggregate below: foldable */
	uint8_t      null_lit; /* the literal null as written */
	uint32_t     height;   /* 1 for a leaf */
	uint32_t     nargs;    /* CALL arguments, IN list items */
	uint32_t     off;      /* offset of its token (operator, name) */
	uint32_t     len;      /* length of that token */
	uint32_t     start;    /* offset of its first character */
	nfa_ex_node *kid[2];
	nfa_ex_node *next; /* next argument or list item */
	union {
		cep_val lit; /* strings live in the arena */
		struct {
			const cep_sym *syms;
			uint32_t       n;
		} path;
		struct {
			const cep_sym *syms; /* NULL: no field given */
			uint32_t       n;
			const char    *step; /* name (arena), step_len bytes */
			uint32_t       step_len;
			uint32_t       step_off;
			uint32_t       index; /* resolved step */
		} agg;
		uint32_t regex; /* CALL matches(): index in the ctx */
	} u;
};

/* A bump arena of chunks for the AST. */
typedef struct nfa_ex_chunk nfa_ex_chunk;

/* State of one compilation. */
typedef struct nfa_ex_ctx {
	const char      *text;
	uint32_t         len;
	const nfa_scope *scope;
	cep_loc          loc; /* scope->loc, or 1:1 when unknown */
	cep_diag        *diag;
	cep_err          rv;   /* CEP_ENOMEM once memory ran out */
	uint32_t         nerr; /* errors reported */
	nfa_ex_chunk    *arena;
	pcre2_code **regex; /* compiled by the checker, moved to the expr */
	size_t       nregex, regex_cap;
} nfa_ex_ctx;

/* expr_parse.c */
void *nfa__ex_alloc(nfa_ex_ctx *cx, size_t size);
void  nfa__ex_arena_free(nfa_ex_ctx *cx);
/* The source position of offset `off` of the text. */
cep_loc nfa__ex_loc(const nfa_ex_ctx *cx, uint32_t off);
/* Report an error at offset `off` of the text. */
void nfa__ex_error(nfa_ex_ctx *cx, uint32_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* " at column N" or " at line L, column N" for offset `off`, as seen
 * from an error at offset `from` (into buf, returned). */
const char *nfa__ex_where(
    const nfa_ex_ctx *cx, uint32_t off, uint32_t from, char *buf, size_t cap);
cep_err nfa__ex_parse(nfa_ex_ctx *cx, nfa_ex_node **root);

/* expr_check.c */
cep_err nfa__ex_check(nfa_ex_ctx *cx, nfa_ex_node *root);
/* Edit distance of two names, capped at cap + 1. */
size_t nfa__ex_distance(
    const char *a, size_t na, const char *b, size_t nb, size_t cap);

/* expr_compile.c */
cep_err nfa__ex_verify(const nfa_expr *e);

/* expr_eval.c: the operations, shared by the evaluator and the folder.
 * They return CEP_ETYPE on a type error and may allocate strings in s. */
cep_err nfa__ex_unary(int op, const cep_val *a, cep_val *out, nfa_scratch *s);
cep_err nfa__ex_binary(
    int op, const cep_val *a, const cep_val *b, cep_val *out, nfa_scratch *s);
/* A PCRE2 general context allocating through cep_alloc (NULL: no memory);
 * free it with pcre2_general_context_free. */
pcre2_general_context *nfa__ex_pcre_context(void);

#endif
