/* SPDX-License-Identifier: MIT */
/*
 * expr_parse.c: the lexer and the recursive-descent parser of expressions,
 * plus the AST arena and error positions shared by the other stages.
 *
 * Grammar, lowest binding first (every binary level is left-associative
 * except comparisons, which do not associate at all: a < b < c is an
 * error, (a < b) == c is not):
 *
 *	expr    := and ('or' and)*
 *	and     := not ('and' not)*
 *	not     := 'not' not | cmp
 *	cmp     := sum [('==' | '!=' | '<' | '<=' | '>' | '>=') sum
 *	                | 'in' list | 'not' 'in' list]
 *	sum     := prod (('+' | '-') prod)*
 *	prod    := unary (('*' | '/' | '%') unary)*
 *	unary   := '-' unary | primary
 *	primary := INT | DEC | STRING | 'true' | 'false' | 'null'
 *	         | '(' expr ')' | name ('.' name)* | NAME '(' [expr (','
 *expr)*] ')' | AGG '(' STEP ['.' name ('.' name)*] ')' list    := '[' expr
 *(',' expr)* ']' name    := NAME | '`' any characters but '`' '`'
 *
 * NAME is [A-Za-z_][A-Za-z0-9_]* and not a keyword (and or not in true
 * false null); after a '.' keywords are names too (a.in).  AGG is one of
 * the aggregate names followed by '(': inside its parentheses the step is
 * read as [A-Za-z_][A-Za-z0-9_-]* (steps may be named middle-first) or a
 * backtick name.  Integers are 64-bit (too big is an error, except
 * -9223372036854775808); a number with '.' or an exponent is a double
 * (1.5, 2e3, 1.5e-3; '.' needs digits on both sides).  Strings are in
 * "..." or '...' with the escapes \\ \" \' \n \t \uXXXX (UTF-16 surrogate
 * pairs combine; a lone surrogate is an error).
 *
 * The parser stops at the first syntax error.  Recursion is bounded by
 * NFA_EX_MAX_DEPTH, and so is the height of the tree, so later passes can
 * recurse safely: 100000 '(' is an error, not a stack overflow.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfa/expr_impl.h"

/*
 * Arena and positions
 */

struct nfa_ex_chunk {
	nfa_ex_chunk *next;
	size_t        size; /* bytes of data[] */
	size_t        used;
	max_align_t   data[];
};

#define ARENA_CHUNK 4096u

/* nfa__ex_alloc returns zeroed, aligned memory from the compile arena, or
 * NULL (and cx->rv = CEP_ENOMEM). */
void *
nfa__ex_alloc(nfa_ex_ctx *cx, size_t size)
{
	nfa_ex_chunk *c     = cx->arena;
	size_t        align = sizeof(max_align_t);
	void         *p;

	size = (size + align - 1) / align * align;
	if (c == NULL || c->size - c->used < size) {
		size_t n = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		if ((c = cep_alloc(sizeof(*c) + n)) == NULL) {
			cx->rv = CEP_ENOMEM;
			return (NULL);
		}
		c->size   = n;
		c->used   = 0;
		c->next   = cx->arena;
		cx->arena = c;
	}
	p = (char *) c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return (p);
}

void
nfa__ex_arena_free(nfa_ex_ctx *cx)
{
	nfa_ex_chunk *c, *next;

	for (c = cx->arena; c != NULL; c = next) {
		next = c->next;
		cep_free(c, sizeof(*c) + c->size);
	}
	cx->arena = NULL;
}

/* nfa__ex_loc maps an offset to a position: a newline moves to the next
 * line, column 1; columns count code points (UTF-8 continuation bytes do
 * not move the column).  Offsets on the first line add to the column of
 * the expression's first character. */
cep_loc
nfa__ex_loc(const nfa_ex_ctx *cx, uint32_t off)
{
	cep_loc  l  = cx->loc;
	uint32_t nl = 0, cols = 0;
	uint32_t begin = 0;

	if (off > cx->len) {
		off = cx->len;
	}
	for (uint32_t i = 0; i < off; i++) {
		if (cx->text[i] == '\n') {
			nl++;
			begin = i + 1;
		}
	}
	for (uint32_t i = begin; i < off; i++) {
		cols += ((unsigned char) cx->text[i] & 0xc0) != 0x80;
	}
	if (nl == 0) {
		l.col += cols;
	} else {
		l.line += nl;
		l.col = 1 + cols;
	}
	return (l);
}

void
nfa__ex_error(nfa_ex_ctx *cx, uint32_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cep_diag_vadd(cx->diag, CEP_SEV_ERROR, nfa__ex_loc(cx, off), fmt, ap);
	va_end(ap);
	cx->nerr++;
}

const char *
nfa__ex_where(
    const nfa_ex_ctx *cx, uint32_t off, uint32_t from, char *buf, size_t cap)
{
	cep_loc a = nfa__ex_loc(cx, off);
	cep_loc b = nfa__ex_loc(cx, from);

	if (a.line == b.line) {
		snprintf(buf, cap, "at column %u", (unsigned) a.col);
	} else {
		snprintf(buf, cap, "at line %u, column %u", (unsigned) a.line,
		    (unsigned) a.col);
	}
	return (buf);
}

/*
 * Lexer
 */

typedef enum tok_kind {
	T_EOF,
	T_INT,
	T_DEC,
	T_STR,
	T_NAME,
	T_QNAME,
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_DOT,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_PCT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_AND,
	T_OR,
	T_NOT,
	T_IN,
	T_TRUE,
	T_FALSE,
	T_NULL,
} tok_kind;

static const struct {
	const char *word;
	tok_kind    kind;
} keywords[] = {
	{ "and", T_AND },
	{ "or", T_OR },
	{ "not", T_NOT },
	{ "in", T_IN },
	{ "true", T_TRUE },
	{ "false", T_FALSE },
	{ "null", T_NULL },
};

typedef struct tok {
	tok_kind kind;
	uint32_t off;
	uint32_t len;
	int64_t  i;   /* T_INT value (when !big) */
	double   d;   /* T_DEC value */
	int      big; /* T_INT: 1 = too big, 2 = exactly 2^63 */
	int      esc; /* T_STR: has escapes */
} tok;

typedef struct parser {
	nfa_ex_ctx *cx;
	tok         t;     /* current token */
	uint32_t    pos;   /* offset after it */
	uint32_t    depth; /* current nesting */
} parser;

static int
is_name_start(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_');
}

static int
is_digit(int c)
{
	return (c >= '0' && c <= '9');
}

static int
is_name_char(int c)
{
	return (is_name_start(c) || is_digit(c));
}

static int
hex_value(int c)
{
	if (is_digit(c)) {
		return (c - '0');
	}
	if (c >= 'a' && c <= 'f') {
		return (c - 'a' + 10);
	}
	if (c >= 'A' && c <= 'F') {
		return (c - 'A' + 10);
	}
	return (-1);
}

/* hex4 reads four hex digits at s (len bytes available); -1 if not. */
static long
hex4(const char *s, size_t avail)
{
	long v = 0;

	if (avail < 4) {
		return (-1);
	}
	for (int i = 0; i < 4; i++) {
		int h = hex_value((unsigned char) s[i]);
		if (h < 0) {
			return (-1);
		}
		v = v * 16 + h;
	}
	return (v);
}

/* lex_string scans a quoted string starting at its quote; on success
 * sets t->len (quotes included) and t->esc. */
static int
lex_string(parser *p, tok *t)
{
	nfa_ex_ctx *cx = p->cx;
	const char *s  = cx->text;
	char        q  = s[t->off];
	uint32_t    i  = t->off + 1;

	t->kind = T_STR;
	while (i < cx->len && s[i] != q) {
		if (s[i] != '\\') {
			i++;
			continue;
		}
		t->esc = 1;
		if (i + 1 >= cx->len) {
			break;
		}
		switch (s[i + 1]) {
		case '\\':
		case '"':
		case '\'':
		case 'n':
		case 't':
			i += 2;
			continue;
		case 'u': {
			long u = hex4(s + i + 2, cx->len - i - 2);
			if (u < 0) {
				nfa__ex_error(
				    cx, i, "\\u needs four hex digits");
				return (-1);
			}
			if (u >= 0xdc00 && u <= 0xdfff) {
				nfa__ex_error(cx, i,
				    "unpaired surrogate \\u%04lX in string",
				    u);
				return (-1);
			}
			if (u >= 0xd800 && u <= 0xdbff) {
				long lo = -1;
				if (cx->len - i >= 12 && s[i + 6] == '\\' &&
				    s[i + 7] == 'u') {
					lo = hex4(s + i + 8, cx->len - i - 8);
				}
				if (lo < 0xdc00 || lo > 0xdfff) {
					nfa__ex_error(cx, i,
					    "unpaired surrogate \\u%04lX in "
					    "string",
					    u);
					return (-1);
				}
				i += 6;
			}
			i += 6;
			continue;
		}
		default:
			nfa__ex_error(cx, i,
			    "unknown escape '\\%c' in string (use \\\\, \\\", "
			    "\\', \\n, \\t or \\uXXXX)",
			    (unsigned char) s[i + 1] >= 0x20 &&
			            (unsigned char) s[i + 1] < 0x7f
			        ? s[i + 1]
			        : '?');
			return (-1);
		}
	}
	if (i >= cx->len) {
		nfa__ex_error(cx, t->off, "unterminated string");
		return (-1);
	}
	t->len = i + 1 - t->off;
	return (0);
}

/* lex_number scans an integer or a decimal. */
static int
lex_number(parser *p, tok *t)
{
	nfa_ex_ctx *cx  = p->cx;
	const char *s   = cx->text;
	uint32_t    i   = t->off;
	uint64_t    v   = 0;
	int         dec = 0;

	t->kind = T_INT;
	while (i < cx->len && is_digit(s[i])) {
		unsigned dg = (unsigned) (s[i] - '0');
		if (t->big == 0 && v > (UINT64_MAX - dg) / 10) {
			t->big = 1;
		}
		v = v * 10 + dg;
		i++;
	}
	if (i < cx->len && s[i] == '.') {
		if (i + 1 >= cx->len || !is_digit(s[i + 1])) {
			nfa__ex_error(cx, i, "expected a digit after '.'");
			return (-1);
		}
		dec = 1;
		i++;
		while (i < cx->len && is_digit(s[i])) {
			i++;
		}
	}
	if (i < cx->len && (s[i] == 'e' || s[i] == 'E')) {
		uint32_t e = i + 1;
		if (e < cx->len && (s[e] == '+' || s[e] == '-')) {
			e++;
		}
		if (e >= cx->len || !is_digit(s[e])) {
			nfa__ex_error(cx, i,
			    "expected digits after the "
			    "exponent 'e'");
			return (-1);
		}
		dec = 1;
		i   = e;
		while (i < cx->len && is_digit(s[i])) {
			i++;
		}
	}
	if (i < cx->len && (is_name_char(s[i]) || s[i] == '.')) {
		while (i < cx->len && (is_name_char(s[i]) || s[i] == '.')) {
			i++;
		}
		nfa__ex_error(cx, t->off, "malformed number '%.*s'",
		    i - t->off > 40 ? 40 : (int) (i - t->off), s + t->off);
		return (-1);
	}
	t->len = i - t->off;
	if (dec) {
		char buf[128];
		if (t->len >= sizeof(buf)) {
			nfa__ex_error(cx, t->off,
			    "decimal literal longer than %zu characters",
			    sizeof(buf) - 1);
			return (-1);
		}
		memcpy(buf, s + t->off, t->len);
		buf[t->len] = '\0';
		t->kind     = T_DEC;
		t->d        = strtod(buf, NULL);
		if (isinf(t->d)) {
			nfa__ex_error(cx, t->off,
			    "decimal literal %s is out of range", buf);
			return (-1);
		}
		return (0);
	}
	if (t->big == 0 && v > (uint64_t) INT64_MAX) {
		t->big = v == (uint64_t) INT64_MAX + 1 ? 2 : 1;
	}
	t->i = (int64_t) (t->big ? 0 : v);
	return (0);
}

/* lex reads the token at offset `at` into *t; -1 after reporting an
 * error. */
static int
lex(parser *p, uint32_t at, tok *t)
{
	nfa_ex_ctx *cx = p->cx;
	const char *s  = cx->text;
	int         c;

	while (at < cx->len &&
	    (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' ||
	        s[at] == '\r')) {
		at++;
	}
	memset(t, 0, sizeof(*t));
	t->off = at;
	t->len = 1;
	if (at >= cx->len) {
		t->kind = T_EOF;
		t->len  = 0;
		return (0);
	}
	c = (unsigned char) s[at];
	if (is_digit(c)) {
		return (lex_number(p, t));
	}
	if (c == '"' || c == '\'') {
		return (lex_string(p, t));
	}
	if (is_name_start(c)) {
		uint32_t i = at;
		while (i < cx->len && is_name_char(s[i])) {
			i++;
		}
		t->kind = T_NAME;
		t->len  = i - at;
		for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]);
		     k++) {
			if (strlen(keywords[k].word) == t->len &&
			    memcmp(keywords[k].word, s + at, t->len) == 0) {
				t->kind = keywords[k].kind;
			}
		}
		return (0);
	}
	if (c == '`') {
		const char *end = memchr(s + at + 1, '`', cx->len - at - 1);
		if (end == NULL) {
			nfa__ex_error(cx, at, "unterminated `name`");
			return (-1);
		}
		t->kind = T_QNAME;
		t->len  = (uint32_t) (end - (s + at)) + 1;
		return (0);
	}
	{
		int d = at + 1 < cx->len ? (unsigned char) s[at + 1] : 0;
		switch (c) {
		case '(':
			t->kind = T_LPAREN;
			return (0);
		case ')':
			t->kind = T_RPAREN;
			return (0);
		case '[':
			t->kind = T_LBRACK;
			return (0);
		case ']':
			t->kind = T_RBRACK;
			return (0);
		case ',':
			t->kind = T_COMMA;
			return (0);
		case '.':
			t->kind = T_DOT;
			return (0);
		case '+':
			t->kind = T_PLUS;
			return (0);
		case '-':
			t->kind = T_MINUS;
			return (0);
		case '*':
			t->kind = T_STAR;
			return (0);
		case '/':
			t->kind = T_SLASH;
			return (0);
		case '%':
			t->kind = T_PCT;
			return (0);
		case '<':
			t->kind = d == '=' ? T_LE : T_LT;
			t->len  = d == '=' ? 2 : 1;
			return (0);
		case '>':
			t->kind = d == '=' ? T_GE : T_GT;
			t->len  = d == '=' ? 2 : 1;
			return (0);
		case '=':
			if (d == '=') {
				t->kind = T_EQ;
				t->len  = 2;
				return (0);
			}
			nfa__ex_error(cx, at,
			    "unexpected '='; use '==' to "
			    "compare");
			return (-1);
		case '!':
			if (d == '=') {
				t->kind = T_NE;
				t->len  = 2;
				return (0);
			}
			nfa__ex_error(cx, at,
			    "unexpected '!'; use 'not' or "
			    "'!='");
			return (-1);
		case '&':
			nfa__ex_error(cx, at, "unexpected '&'; use 'and'");
			return (-1);
		case '|':
			nfa__ex_error(cx, at, "unexpected '|'; use 'or'");
			return (-1);
		default:
			break;
		}
	}
	if (c >= 0x20 && c < 0x7f) {
		nfa__ex_error(cx, at, "unexpected character '%c'", c);
	} else if (c >= 0xc2 && c <= 0xf4) {
		/* Show the whole UTF-8 sequence, and the way out. */
		uint32_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (n > cx->len - at) {
			n = cx->len - at;
		}
		nfa__ex_error(cx, at,
		    "unexpected character '%.*s' (write field names with "
		    "other characters in backticks: `name`)",
		    (int) n, s + at);
	} else {
		nfa__ex_error(cx, at, "unexpected byte 0x%02x", c);
	}
	return (-1);
}

/* describe names a token for messages: 'text' or a kind. */
static const char *
describe(const parser *p, const tok *t, char *buf, size_t cap)
{
	switch (t->kind) {
	case T_EOF:
		return ("the end of the expression");
	case T_STR:
		return ("a string");
	default:
		snprintf(buf, cap, "'%.*s'", t->len > 32 ? 32 : (int) t->len,
		    p->cx->text + t->off);
		return (buf);
	}
}

/* advance moves to the next token; -1 on a lexical error. */
static int
advance(parser *p)
{
	if (lex(p, p->pos, &p->t) != 0) {
		p->cx->rv = CEP_EPARSE;
		return (-1);
	}
	p->pos = p->t.off + p->t.len;
	return (0);
}

static void syntax_error(parser *p, uint32_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
syntax_error(parser *p, uint32_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cep_diag_vadd(
	    p->cx->diag, CEP_SEV_ERROR, nfa__ex_loc(p->cx, off), fmt, ap);
	va_end(ap);
	p->cx->nerr++;
	if (p->cx->rv == CEP_OK) {
		p->cx->rv = CEP_EPARSE;
	}
}

static void
too_deep(parser *p, uint32_t off)
{
	syntax_error(p, off,
	    "expression nests too deeply (more than %u levels)",
	    NFA_EX_MAX_DEPTH);
}

/* enter counts one level of recursion; -1 (reported) past the limit. */
static int
enter(parser *p, uint32_t off)
{
	if (++p->depth > NFA_EX_MAX_DEPTH) {
		too_deep(p, off);
		return (-1);
	}
	return (0);
}

/*
 * Nodes
 */

static nfa_ex_node *
mknode(parser *p, nfa_ex_kind kind, int op, const tok *t)
{
	nfa_ex_node *n = nfa__ex_alloc(p->cx, sizeof(*n));

	if (n != NULL) {
		n->kind   = (uint8_t) kind;
		n->op     = (uint8_t) op;
		n->off    = t->off;
		n->len    = t->len;
		n->start  = t->off;
		n->height = 1;
	}
	return (n);
}

/* attach sets the kids of n and its height; NULL (reported) when the tree
 * grows too high. */
static nfa_ex_node *
attach(parser *p, nfa_ex_node *n, nfa_ex_node *a, nfa_ex_node *b)
{
	uint32_t h = 0;

	n->kid[0] = a;
	n->kid[1] = b;
	for (nfa_ex_node *k = a; k != NULL; k = k->next) {
		h = k->height > h ? k->height : h;
	}
	for (nfa_ex_node *k = b; k != NULL; k = k->next) {
		h = k->height > h ? k->height : h;
	}
	n->height = h + 1;
	if (a != NULL && a->start < n->start) {
		n->start = a->start;
	}
	if (n->height > NFA_EX_MAX_DEPTH) {
		too_deep(p, n->off);
		return (NULL);
	}
	return (n);
}

/* name_text gives the bytes of a NAME, QNAME or keyword token (without
 * backticks). */
static void
name_text(const parser *p, const tok *t, const char **s, uint32_t *n)
{
	*s = p->cx->text + t->off;
	*n = t->len;
	if (t->kind == T_QNAME) {
		++*s;
		*n -= 2;
	}
}

static int
is_wordlike(tok_kind k)
{
	return (k == T_NAME || k == T_QNAME || k == T_AND || k == T_OR ||
	    k == T_NOT || k == T_IN || k == T_TRUE || k == T_FALSE ||
	    k == T_NULL);
}

/* intern resolves one path component to its symbol. */
static int
intern(parser *p, const tok *t, cep_sym *out)
{
	const char *s;
	uint32_t    n;

	name_text(p, t, &s, &n);
	if (n == 0) {
		syntax_error(p, t->off, "empty field name");
		return (-1);
	}
	if (n > CEP_SYM_MAX_LEN) {
		syntax_error(p, t->off, "field name longer than %u bytes",
		    CEP_SYM_MAX_LEN);
		return (-1);
	}
	if ((*out = cep_sym_intern(s, n)) == CEP_SYM_NONE) {
		p->cx->rv = CEP_ENOMEM;
		return (-1);
	}
	return (0);
}

/* parse_path reads ('.' name)* after the *n components already in syms,
 * then copies the path to the arena. */
static int
parse_path(parser *p, cep_sym *syms, uint32_t *n, const cep_sym **out)
{
	cep_sym *copy;

	while (p->t.kind == T_DOT) {
		if (advance(p) != 0) {
			return (-1);
		}
		if (!is_wordlike(p->t.kind)) {
			char buf[48];
			syntax_error(p, p->t.off,
			    "expected a field name after '.', got %s",
			    describe(p, &p->t, buf, sizeof(buf)));
			return (-1);
		}
		if (*n == NFA_EX_MAX_PATH) {
			syntax_error(p, p->t.off,
			    "field path longer than %u names",
			    NFA_EX_MAX_PATH);
			return (-1);
		}
		if (intern(p, &p->t, &syms[*n]) != 0 || advance(p) != 0) {
			return (-1);
		}
		++*n;
	}
	if ((copy = nfa__ex_alloc(p->cx, *n * sizeof(cep_sym))) == NULL) {
		return (-1);
	}
	memcpy(copy, syms, *n * sizeof(cep_sym));
	*out = copy;
	return (0);
}

/* decode_string turns a string token into its bytes in the arena. */
static int
decode_string(parser *p, const tok *t, cep_val *out)
{
	const char *s   = p->cx->text + t->off + 1;
	uint32_t    n   = t->len - 2;
	char       *d   = nfa__ex_alloc(p->cx, (size_t) n + 1);
	uint32_t    len = 0;

	if (d == NULL) {
		return (-1);
	}
	for (uint32_t i = 0; i < n; i++) {
		unsigned long u;
		if (s[i] != '\\') {
			d[len++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'n':
			d[len++] = '\n';
			continue;
		case 't':
			d[len++] = '\t';
			continue;
		case 'u':
			break;
		default: /* \\ \" \' (the lexer checked) */
			d[len++] = s[i];
			continue;
		}
		u = (unsigned long) hex4(s + i + 1, 4);
		i += 4;
		if (u >= 0xd800 && u <= 0xdbff) {
			unsigned long lo = (unsigned long) hex4(s + i + 3, 4);
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
		if (u < 0x80) {
			d[len++] = (char) u;
		} else if (u < 0x800) {
			d[len++] = (char) (0xc0 | (u >> 6));
			d[len++] = (char) (0x80 | (u & 0x3f));
		} else if (u < 0x10000) {
			d[len++] = (char) (0xe0 | (u >> 12));
			d[len++] = (char) (0x80 | ((u >> 6) & 0x3f));
			d[len++] = (char) (0x80 | (u & 0x3f));
		} else {
			d[len++] = (char) (0xf0 | (u >> 18));
			d[len++] = (char) (0x80 | ((u >> 12) & 0x3f));
			d[len++] = (char) (0x80 | ((u >> 6) & 0x3f));
			d[len++] = (char) (0x80 | (u & 0x3f));
		}
	}
	d[len] = '\0';
	*out   = cep_val_str(d, len);
	return (0);
}

/*
 * Parser
 */

static nfa_ex_node *parse_expr(parser *p);

static int
is_agg(const char *s, uint32_t n, int *op)
{
	static const struct {
		const char *name;
		int         op;
	} aggs[] = {
#define AGG_ENTRY(name, op) { name, NFA_OP_##op },
		NFA_EX_AGGS(AGG_ENTRY)
#undef AGG_ENTRY
	};

	for (size_t i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++) {
		if (strlen(aggs[i].name) == n &&
		    memcmp(aggs[i].name, s, n) == 0) {
			*op = aggs[i].op;
			return (1);
		}
	}
	return (0);
}

/* expect_close checks for `want` closing what opened at `open`. */
static int
expect_close(parser *p, tok_kind want, const char *what, uint32_t open,
    const char *opener)
{
	char buf[48], where[64];

	if (p->t.kind == want) {
		return (advance(p));
	}
	syntax_error(p, p->t.off, "expected '%s' to close '%s' %s, got %s",
	    what, opener,
	    nfa__ex_where(p->cx, open, p->t.off, where, sizeof(where)),
	    describe(p, &p->t, buf, sizeof(buf)));
	return (-1);
}

/* parse_agg reads AGG '(' STEP ['.' path] ')'; the current token is the
 * '(' after the aggregate's name `name`. */
static nfa_ex_node *
parse_agg(parser *p, const tok *name, int op)
{
	nfa_ex_ctx  *cx = p->cx;
	const char  *s  = cx->text;
	uint32_t     i  = p->pos;
	cep_sym      syms[NFA_EX_MAX_PATH];
	uint32_t     n = 0;
	nfa_ex_node *node;
	char         opener[32];

	snprintf(
	    opener, sizeof(opener), "%.*s(", (int) name->len, s + name->off);
	if ((node = mknode(p, EX_AGG, op, name)) == NULL) {
		return (NULL);
	}
	while (i < cx->len &&
	    (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
		i++;
	}
	node->u.agg.step_off = i;
	if (i < cx->len && s[i] == '`') {
		const char *end = memchr(s + i + 1, '`', cx->len - i - 1);
		if (end == NULL) {
			syntax_error(p, i, "unterminated `name`");
			return (NULL);
		}
		node->u.agg.step     = s + i + 1;
		node->u.agg.step_len = (uint32_t) (end - (s + i + 1));
		i                    = (uint32_t) (end - s) + 1;
	} else if (i < cx->len && is_name_start((unsigned char) s[i])) {
		uint32_t b = i;
		while (i < cx->len &&
		    (is_name_char((unsigned char) s[i]) || s[i] == '-')) {
			i++;
		}
		node->u.agg.step     = s + b;
		node->u.agg.step_len = i - b;
	} else {
		tok  t;
		char buf[48];
		p->pos = i;
		if (advance(p) != 0) {
			return (NULL);
		}
		t = p->t;
		syntax_error(p, t.off,
		    "expected a step name after '%s', got %s", opener,
		    describe(p, &t, buf, sizeof(buf)));
		return (NULL);
	}
	p->pos = i;
	if (advance(p) != 0) {
		return (NULL);
	}
	if (p->t.kind == T_DOT) {
		if (parse_path(p, syms, &n, &node->u.agg.syms) != 0) {
			return (NULL);
		}
		node->u.agg.n = n;
	}
	if (expect_close(p, T_RPAREN, ")", name->off, opener) != 0) {
		return (NULL);
	}
	return (node);
}

/* parse_call reads NAME '(' args ')'; the current token is the '('. */
static nfa_ex_node *
parse_call(parser *p, const tok *name)
{
	nfa_ex_node *node, *first = NULL, **tail = &first;
	uint32_t     nargs = 0;
	char         opener[32];
	int          op;

	if (is_agg(p->cx->text + name->off, name->len, &op)) {
		return (parse_agg(p, name, op));
	}
	snprintf(opener, sizeof(opener), "%.*s(",
	    name->len > 24 ? 24 : (int) name->len, p->cx->text + name->off);
	if ((node = mknode(p, EX_CALL, 0, name)) == NULL || advance(p) != 0) {
		return (NULL);
	}
	if (p->t.kind != T_RPAREN) {
		for (;;) {
			nfa_ex_node *arg = parse_expr(p);
			if (arg == NULL) {
				return (NULL);
			}
			*tail = arg;
			tail  = &arg->next;
			if (nargs < UINT32_MAX) {
				nargs++;
			}
			if (p->t.kind != T_COMMA) {
				break;
			}
			if (advance(p) != 0) {
				return (NULL);
			}
		}
	}
	if (expect_close(p, T_RPAREN, ")", name->off, opener) != 0) {
		return (NULL);
	}
	node->nargs = nargs;
	return (attach(p, node, first, NULL));
}

static nfa_ex_node *
parse_primary(parser *p)
{
	tok          t = p->t;
	nfa_ex_node *n;
	char         buf[48];

	switch (t.kind) {
	case T_INT:
		if (t.big) {
			syntax_error(p, t.off,
			    "integer literal %.*s is too big (the largest is "
			    "9223372036854775807)",
			    t.len > 40 ? 40 : (int) t.len,
			    p->cx->text + t.off);
			return (NULL);
		}
		if ((n = mknode(p, EX_LIT, 0, &t)) == NULL) {
			return (NULL);
		}
		n->u.lit = cep_val_int(t.i);
		return (advance(p) == 0 ? n : NULL);
	case T_DEC:
		if ((n = mknode(p, EX_LIT, 0, &t)) == NULL) {
			return (NULL);
		}
		n->u.lit = cep_val_double(t.d);
		return (advance(p) == 0 ? n : NULL);
	case T_STR:
		if ((n = mknode(p, EX_LIT, 0, &t)) == NULL ||
		    decode_string(p, &t, &n->u.lit) != 0) {
			return (NULL);
		}
		return (advance(p) == 0 ? n : NULL);
	case T_TRUE:
	case T_FALSE:
	case T_NULL:
		if ((n = mknode(p, EX_LIT, 0, &t)) == NULL) {
			return (NULL);
		}
		if (t.kind == T_NULL) {
			n->u.lit    = cep_val_null();
			n->null_lit = 1;
		} else {
			n->u.lit = cep_val_bool(t.kind == T_TRUE);
		}
		return (advance(p) == 0 ? n : NULL);
	case T_LPAREN:
		if (enter(p, t.off) != 0 || advance(p) != 0 ||
		    (n = parse_expr(p)) == NULL ||
		    expect_close(p, T_RPAREN, ")", t.off, "(") != 0) {
			return (NULL);
		}
		p->depth--;
		n->start = t.off;
		return (n);
	case T_NAME:
	case T_QNAME: {
		cep_sym  syms[NFA_EX_MAX_PATH];
		uint32_t np = 1;
		if (advance(p) != 0) {
			return (NULL);
		}
		if (t.kind == T_NAME && p->t.kind == T_LPAREN) {
			nfa_ex_node *c;
			if (enter(p, t.off) != 0 ||
			    (c = parse_call(p, &t)) == NULL) {
				return (NULL);
			}
			p->depth--;
			return (c);
		}
		if ((n = mknode(p, EX_FIELD, 0, &t)) == NULL ||
		    intern(p, &t, &syms[0]) != 0 ||
		    parse_path(p, syms, &np, &n->u.path.syms) != 0) {
			return (NULL);
		}
		n->u.path.n = np;
		return (n);
	}
	case T_LBRACK:
		syntax_error(p, t.off, "a list [...] may only follow 'in'");
		return (NULL);
	default:
		syntax_error(p, t.off, "expected an expression, got %s",
		    describe(p, &t, buf, sizeof(buf)));
		return (NULL);
	}
}

static nfa_ex_node *
parse_unary(parser *p)
{
	tok          t = p->t;
	nfa_ex_node *n, *k;

	if (t.kind != T_MINUS) {
		return (parse_primary(p));
	}
	if (enter(p, t.off) != 0 || advance(p) != 0) {
		return (NULL);
	}
	if (p->t.kind == T_INT && p->t.big == 2) {
		/* -9223372036854775808: INT64_MIN has no positive twin. */
		if ((n = mknode(p, EX_LIT, 0, &t)) == NULL) {
			return (NULL);
		}
		n->u.lit = cep_val_int(INT64_MIN);
		p->depth--;
		return (advance(p) == 0 ? n : NULL);
	}
	if ((k = parse_unary(p)) == NULL ||
	    (n = mknode(p, EX_UNARY, NFA_OP_NEG, &t)) == NULL) {
		return (NULL);
	}
	p->depth--;
	return (attach(p, n, k, NULL));
}

/* binary_op maps a token to a binary opcode of the given level. */
static int
binary_op(tok_kind k, int level)
{
	static const struct {
		tok_kind k;
		int      level;
		int      op;
	} ops[] = {
		{ T_PLUS, 1, NFA_OP_ADD },
		{ T_MINUS, 1, NFA_OP_SUB },
		{ T_STAR, 2, NFA_OP_MUL },
		{ T_SLASH, 2, NFA_OP_DIV },
		{ T_PCT, 2, NFA_OP_MOD },
		{ T_EQ, 0, NFA_OP_EQ },
		{ T_NE, 0, NFA_OP_NE },
		{ T_LT, 0, NFA_OP_LT },
		{ T_LE, 0, NFA_OP_LE },
		{ T_GT, 0, NFA_OP_GT },
		{ T_GE, 0, NFA_OP_GE },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].k == k && ops[i].level == level) {
			return (ops[i].op);
		}
	}
	return (-1);
}

static nfa_ex_node *
parse_prod(parser *p)
{
	nfa_ex_node *l = parse_unary(p), *r, *n;
	int          op;

	while (l != NULL && (op = binary_op(p->t.kind, 2)) >= 0) {
		tok t = p->t;
		if (advance(p) != 0 || (r = parse_unary(p)) == NULL ||
		    (n = mknode(p, EX_BINARY, op, &t)) == NULL) {
			return (NULL);
		}
		l = attach(p, n, l, r);
	}
	return (l);
}

static nfa_ex_node *
parse_sum(parser *p)
{
	nfa_ex_node *l = parse_prod(p), *r, *n;
	int          op;

	while (l != NULL && (op = binary_op(p->t.kind, 1)) >= 0) {
		tok t = p->t;
		if (advance(p) != 0 || (r = parse_prod(p)) == NULL ||
		    (n = mknode(p, EX_BINARY, op, &t)) == NULL) {
			return (NULL);
		}
		l = attach(p, n, l, r);
	}
	return (l);
}

/* parse_list reads '[' expr (',' expr)* ']' into a chain. */
static nfa_ex_node *
parse_list(parser *p, uint32_t *count)
{
	nfa_ex_node *first = NULL, **tail = &first;
	uint32_t     open = p->t.off;
	char         buf[48];

	if (p->t.kind != T_LBRACK) {
		syntax_error(p, p->t.off,
		    "expected a list after 'in' ([a, b, ...]), got %s",
		    describe(p, &p->t, buf, sizeof(buf)));
		return (NULL);
	}
	if (enter(p, open) != 0 || advance(p) != 0) {
		return (NULL);
	}
	if (p->t.kind == T_RBRACK) {
		syntax_error(p, open, "empty list after 'in'");
		return (NULL);
	}
	*count = 0;
	for (;;) {
		nfa_ex_node *item = parse_expr(p);
		if (item == NULL) {
			return (NULL);
		}
		*tail = item;
		tail  = &item->next;
		if (*count == UINT32_MAX) {
			syntax_error(p, item->start, "list too long");
			return (NULL);
		}
		++*count;
		if (p->t.kind != T_COMMA) {
			break;
		}
		if (advance(p) != 0) {
			return (NULL);
		}
	}
	if (expect_close(p, T_RBRACK, "]", open, "[") != 0) {
		return (NULL);
	}
	p->depth--;
	return (first);
}

/* cmp_op is the comparison at the current token (NOTIN for 'not in'), or
 * -1. */
static int
cmp_op(parser *p)
{
	tok next;

	if (p->t.kind == T_IN) {
		return (NFA_OP_IN);
	}
	if (p->t.kind == T_NOT) {
		if (lex(p, p->pos, &next) != 0) {
			p->cx->rv = CEP_EPARSE;
			return (-2);
		}
		return (next.kind == T_IN ? NFA_OP_NOTIN : -1);
	}
	return (binary_op(p->t.kind, 0));
}

static nfa_ex_node *
parse_cmp(parser *p)
{
	nfa_ex_node *l = parse_sum(p), *r, *n;
	tok          t;
	int          op;

	if (l == NULL || (op = cmp_op(p)) == -1) {
		return (l);
	}
	if (op < 0) {
		return (NULL);
	}
	t = p->t;
	if (op == NFA_OP_NOTIN) {
		if (advance(p) != 0) {
			return (NULL);
		}
		t.len = p->t.off + p->t.len - t.off;
	}
	if (advance(p) != 0) {
		return (NULL);
	}
	if (op == NFA_OP_IN || op == NFA_OP_NOTIN) {
		uint32_t count = 0;
		if ((r = parse_list(p, &count)) == NULL ||
		    (n = mknode(p, EX_IN, op, &t)) == NULL) {
			return (NULL);
		}
		n->nargs = count;
		n        = attach(p, n, l, r);
	} else {
		if ((r = parse_sum(p)) == NULL ||
		    (n = mknode(p, EX_BINARY, op, &t)) == NULL) {
			return (NULL);
		}
		n = attach(p, n, l, r);
	}
	if (n != NULL && (op = cmp_op(p)) != -1) {
		char buf[48];
		if (op < -1) {
			return (NULL);
		}
		syntax_error(p, p->t.off,
		    "comparisons do not chain: %s after '%.*s'; combine "
		    "them with 'and' or use parentheses",
		    op == NFA_OP_NOTIN ? "'not in'"
		                       : describe(p, &p->t, buf, sizeof(buf)),
		    (int) t.len, p->cx->text + t.off);
		return (NULL);
	}
	return (n);
}

static nfa_ex_node *
parse_not(parser *p)
{
	tok          t = p->t;
	nfa_ex_node *k, *n;

	if (t.kind != T_NOT) {
		return (parse_cmp(p));
	}
	if (enter(p, t.off) != 0 || advance(p) != 0 ||
	    (k = parse_not(p)) == NULL ||
	    (n = mknode(p, EX_UNARY, NFA_OP_NOT, &t)) == NULL) {
		return (NULL);
	}
	p->depth--;
	return (attach(p, n, k, NULL));
}

static nfa_ex_node *
parse_and(parser *p)
{
	nfa_ex_node *l = parse_not(p), *r, *n;

	while (l != NULL && p->t.kind == T_AND) {
		tok t = p->t;
		if (advance(p) != 0 || (r = parse_not(p)) == NULL ||
		    (n = mknode(p, EX_AND, 0, &t)) == NULL) {
			return (NULL);
		}
		l = attach(p, n, l, r);
	}
	return (l);
}

static nfa_ex_node *
parse_expr(parser *p)
{
	nfa_ex_node *l = parse_and(p), *r, *n;

	while (l != NULL && p->t.kind == T_OR) {
		tok t = p->t;
		if (advance(p) != 0 || (r = parse_and(p)) == NULL ||
		    (n = mknode(p, EX_OR, 0, &t)) == NULL) {
			return (NULL);
		}
		l = attach(p, n, l, r);
	}
	return (l);
}

/* nfa__ex_parse parses the whole text into *root: CEP_OK, CEP_EPARSE
 * (reported) or CEP_ENOMEM. */
cep_err
nfa__ex_parse(nfa_ex_ctx *cx, nfa_ex_node **root)
{
	parser       p = { .cx = cx };
	nfa_ex_node *n;
	char         buf[48];

	if (advance(&p) != 0) {
		return (cx->rv);
	}
	if (p.t.kind == T_EOF) {
		syntax_error(&p, 0, "empty expression");
		return (cx->rv);
	}
	if ((n = parse_expr(&p)) == NULL) {
		return (cx->rv != CEP_OK ? cx->rv : CEP_EPARSE);
	}
	if (p.t.kind != T_EOF) {
		if (p.t.kind == T_RPAREN) {
			syntax_error(&p, p.t.off, "unmatched ')'");
		} else {
			syntax_error(&p, p.t.off,
			    "expected an operator or the end of the "
			    "expression, got %s",
			    describe(&p, &p.t, buf, sizeof(buf)));
		}
		return (cx->rv);
	}
	*root = n;
	return (CEP_OK);
}
