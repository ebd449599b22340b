/* SPDX-License-Identifier: MIT */
/*
 * rules.c: rule files (YAML) into patterns.
 *
 * A file goes through four stages, each reporting every problem it finds:
 *
 *	1. the bytes: size, UTF-8, control characters (libfyaml 0.7.12 has
 *	   public fuzz findings on malformed input, so it never sees any);
 *	2. libfyaml's event parser builds a small tree of our own (scalars
 *	   keep their text and position), refusing aliases, tags, a second
 *	   document and nesting past MAX_DEPTH;
 *	3. every mapping is checked for duplicate and non-scalar keys;
 *	4. the schema of PATTERNS.md fills nfa_pattern structures, compiles
 *	   the expressions and runs nfa_pattern_validate on each pattern.
 *
 * Invariant: a rule set with any error is freed whole and nothing is
 * returned; diagnostics are sorted by file, line and column.  A value
 * that fails to load leaves a neutral placeholder behind so that the
 * validator does not report follow-on errors about it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libfyaml.h>

#include "cep/duration.h"
#include "server/rules.h"

#define MAX_DEPTH 64 /* YAML nesting (every walk below is recursive) */
#define ARENA_CHUNK (64u * 1024u)

/* ------------------------------------------------------------------ */
/* An arena for the tree of one file                                  */
/* ------------------------------------------------------------------ */

typedef struct chunk {
	struct chunk *next;
	size_t size; /* bytes allocated for the chunk, header included */
	size_t used;
} chunk;

typedef struct arena {
	chunk *head;
} arena;

#define CHUNK_HDR                                                          \
	((sizeof(chunk) + sizeof(max_align_t) - 1) / sizeof(max_align_t) * \
	    sizeof(max_align_t))

/* arena_alloc returns n zeroed bytes aligned for any type, or NULL. */
static void *
arena_alloc(arena *a, size_t n)
{
	chunk *c = a->head;
	size_t need;
	void  *p;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	    sizeof(max_align_t);
	if (c == NULL || c->size - c->used < n) {
		need =
		    CHUNK_HDR + n > ARENA_CHUNK ? CHUNK_HDR + n : ARENA_CHUNK;
		if ((c = cep_alloc(need)) == NULL) {
			return (NULL);
		}
		c->size = need;
		c->used = CHUNK_HDR;
		c->next = a->head;
		a->head = c;
	}
	p = (char *) c + c->used;
	c->used += n;
	memset(p, 0, n);
	return (p);
}

static void
arena_fini(arena *a)
{
	chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		cep_free(c, c->size);
	}
	a->head = NULL;
}

/* ------------------------------------------------------------------ */
/* The tree                                                           */
/* ------------------------------------------------------------------ */

typedef enum ytype {
	Y_SCALAR,
	Y_MAP,
	Y_SEQ,
	Y_ALIAS, /* refused, reported already: every check skips it */
} ytype;

typedef struct ynode ynode;

struct ynode {
	ytype   type;
	int     style; /* scalars: enum fy_scalar_style */
	bool    skip;  /* a key already reported (duplicate, not a scalar) */
	cep_loc loc;   /* the node; the opening quote of a quoted scalar */
	cep_loc text;  /* a scalar's first character of content */
	char   *s;     /* scalar text, NUL-terminated */
	size_t  len;
	size_t  src;     /* plain and block scalars: their source text is */
	size_t  src_end; /* yf->buf[src, src_end) (src_end 0: unknown) */
	ynode  *first;   /* children; a mapping alternates keys and values */
	ynode  *last;
	size_t  n;
	ynode  *next;
};

/* The walk over one mapping's pairs: for (k = map->first; k != NULL &&
 * k->next != NULL; k = k->next->next), value k->next. */
// clang-format off
#define PAIRS(k, map)                                                        \
	for (ynode *k = (map)->first; k != NULL && k->next != NULL;          \
	     k = k->next->next)
// clang-format on

/* ------------------------------------------------------------------ */
/* Loading state                                                      */
/* ------------------------------------------------------------------ */

/* The rule set with the capacities of its arrays. */
typedef struct rules_impl {
	srv_rules pub; /* first: srv_rules_destroy casts back */
	size_t    patterns_cap;
	size_t    streams_cap;
	size_t    files_cap;
} rules_impl;

typedef struct pname {
	const char *name; /* the pattern's own string */
	cep_loc     loc;
	size_t      order;
} pname;

/* One load: the rule set, every pattern name seen, and the outcome. */
typedef struct loader {
	rules_impl *r;
	cep_diag   *diag;
	size_t      nerr;
	cep_err     fatal; /* CEP_ENOMEM: stop as soon as possible */
	bool        io;    /* a path could not be read */
	pname      *names;
	size_t      nnames;
	size_t      names_cap;
} loader;

/* Values every pattern of a file gets unless it sets its own. */
typedef struct defaults {
	ynode  *key, *time; /* field paths, parsed per pattern */
	cep_loc key_loc, time_loc, within_loc, max_delay_loc;
	int64_t within;
	int64_t max_delay;
	bool    within_set, max_delay_set;
} defaults;

/* One file being read. */
typedef struct yfile {
	loader     *l;
	const char *file; /* the rule set's copy of the name */
	const char *buf;  /* the text libfyaml parses (after a BOM) */
	size_t      len;
	arena       a;
	ynode      *root;
	defaults    defs;
} yfile;

static void lerr(loader *l, cep_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* lerr records one error. */
static void
lerr(loader *l, cep_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cep_diag_vadd(l->diag, CEP_SEV_ERROR, loc, fmt, ap);
	va_end(ap);
	l->nerr++;
}

static void
oom(loader *l)
{
	l->fatal = CEP_ENOMEM;
}

static cep_loc
mkloc(const char *file, uint32_t line, uint32_t col)
{
	cep_loc loc = { .file = file, .line = line, .col = col };

	return (loc);
}

static int
loc_before(cep_loc a, cep_loc b)
{
	return (a.line < b.line || (a.line == b.line && a.col < b.col));
}

/* ------------------------------------------------------------------ */
/* Stage 1: the bytes                                                 */
/* ------------------------------------------------------------------ */

/* utf8_len: the length of the sequence a lead byte starts, 0 if none. */
static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80) {
		return (1);
	}
	if (c >= 0xc2 && c <= 0xdf) {
		return (2);
	}
	if (c >= 0xe0 && c <= 0xef) {
		return (3);
	}
	if (c >= 0xf0 && c <= 0xf4) {
		return (4);
	}
	return (0);
}

/* position_of: line and column (in characters) of byte `at`, counting
 * LF, CR and CRLF as one line break each, as libfyaml does. */
static cep_loc
position_of(const char *file, const char *buf, size_t at)
{
	uint32_t line = 1, col = 1;

	for (size_t i = 0; i < at; i++) {
		unsigned char c = (unsigned char) buf[i];
		if (c == '\n' ||
		    (c == '\r' && (i + 1 >= at || buf[i + 1] != '\n'))) {
			line++;
			col = 1;
		} else if (c != '\r' && (c & 0xc0) != 0x80) {
			col++;
		}
	}
	return (mkloc(file, line, col));
}

/* precheck refuses what libfyaml must not see; *skip gets the length of
 * a leading byte order mark.  Only the first offending byte is reported
 * (a binary file would give one error per byte). */
static int
precheck(
    loader *l, const char *file, const char *buf, size_t len, size_t *skip)
{
	const unsigned char *s = (const unsigned char *) buf;
	size_t               i = 0, n;

	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
		i = 3;
	}
	*skip = i;
	if (len > SRV_RULES_MAX_BYTES) {
		lerr(l, position_of(file, buf + i, SRV_RULES_MAX_BYTES - i),
		    "file is larger than %u bytes", SRV_RULES_MAX_BYTES);
		return (-1);
	}
	for (; i < len; i += n) {
		unsigned c = s[i];
		if ((n = utf8_len((unsigned char) c)) == 0 || i + n > len ||
		    !cep_utf8_valid(buf + i, n)) {
			lerr(l, position_of(file, buf + *skip, i - *skip),
			    "invalid UTF-8 (byte 0x%02x)", c);
			return (-1);
		}
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			lerr(l, position_of(file, buf + *skip, i - *skip),
			    "control character 0x%02x is not allowed", c);
			return (-1);
		}
		// C1 controls, U+0080..U+009F, are 0xc2 0x80..0x9f.
		if (c == 0xc2 && s[i + 1] < 0xa0) {
			lerr(l, position_of(file, buf + *skip, i - *skip),
			    "control character U+%04X is not allowed",
			    (unsigned) s[i + 1]);
			return (-1);
		}
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* Stage 2: libfyaml events into the tree                             */
/* ------------------------------------------------------------------ */

typedef struct builder {
	yfile  *yf;
	ynode  *stack[MAX_DEPTH];
	size_t  depth;
	int     docs;
	bool    stop;   /* stop reading events */
	bool    broken; /* the tree is incomplete */
	cep_loc last;   /* end of the last event, for nodes without a mark */
} builder;

static cep_loc
mark_loc(yfile *yf, const struct fy_mark *m)
{
	return (
	    mkloc(yf->file, (uint32_t) m->line + 1, (uint32_t) m->column + 1));
}

/* scalar_locs places a scalar: `loc` at its opening quote, `text` at its
 * first character of content.  libfyaml marks quoted scalars at their
 * content and block scalars at the start of their first line. */
static void
scalar_locs(yfile *yf, ynode *y, const struct fy_mark *m)
{
	size_t pos = m->input_pos;

	y->loc  = mark_loc(yf, m);
	y->text = y->loc;
	if (y->style == FYSS_SINGLE_QUOTED || y->style == FYSS_DOUBLE_QUOTED) {
		char q = y->style == FYSS_SINGLE_QUOTED ? '\'' : '"';
		if (pos > 0 && pos <= yf->len && yf->buf[pos - 1] == q &&
		    y->loc.col > 1) {
			y->loc.col--; // marked at its content (0.7.12)
		} else if (pos < yf->len && yf->buf[pos] == q) {
			y->text.col++; // marked at its quote
		}
	} else if (y->style == FYSS_LITERAL || y->style == FYSS_FOLDED) {
		while (pos < yf->len && yf->buf[pos] == ' ') {
			pos++;
			y->text.col++;
		}
		y->loc = y->text;
	}
	y->src = pos;
}

/* attach links a new node under the open container (or as the root). */
static void
attach(builder *b, ynode *y)
{
	ynode *parent = b->depth > 0 ? b->stack[b->depth - 1] : NULL;

	if (parent == NULL) {
		b->yf->root = y;
		return;
	}
	if (parent->last != NULL) {
		parent->last->next = y;
	} else {
		parent->first = y;
	}
	parent->last = y;
	parent->n++;
}

/* unmarked_loc: where to report a node libfyaml gives no position (an
 * empty value): at its key, else after the last event. */
static cep_loc
unmarked_loc(builder *b)
{
	ynode *parent = b->depth > 0 ? b->stack[b->depth - 1] : NULL;

	if (parent != NULL && parent->type == Y_MAP && parent->n % 2 == 1) {
		return (parent->last->loc);
	}
	return (b->last);
}

static void
refuse_tag(builder *b, struct fy_token *tag)
{
	const struct fy_mark *m;

	if (tag == NULL) {
		return;
	}
	m = fy_token_start_mark(tag);
	lerr(b->yf->l, m != NULL ? mark_loc(b->yf, m) : b->last,
	    "tags are not allowed");
}

/* on_node handles the events that make a node. */
static void
on_node(builder *b, struct fy_event *fye)
{
	yfile                *yf = b->yf;
	const struct fy_mark *m  = fy_event_start_mark(fye);
	ynode                *y;

	if ((y = arena_alloc(&yf->a, sizeof(*y))) == NULL) {
		oom(yf->l);
		b->stop = b->broken = true;
		return;
	}
	y->loc  = m != NULL ? mark_loc(yf, m) : unmarked_loc(b);
	y->text = y->loc;
	switch (fye->type) {
	case FYET_SCALAR: {
		const char *t;
		size_t      len = 0;

		y->type  = Y_SCALAR;
		y->style = (int) fy_token_scalar_style(fye->scalar.value);
		if (m != NULL) {
			const struct fy_mark *e = fy_event_end_mark(fye);
			scalar_locs(yf, y, m);
			if (e != NULL && e->input_pos > y->src &&
			    e->input_pos <= yf->len) {
				y->src_end = e->input_pos;
			}
		}
		refuse_tag(b, fye->scalar.tag);
		t = fy_token_get_text(fye->scalar.value, &len);
		if ((t == NULL && len > 0) ||
		    (y->s = arena_alloc(&yf->a, len + 1)) == NULL) {
			oom(yf->l);
			b->stop = b->broken = true;
			return;
		}
		if (len > 0) {
			memcpy(y->s, t, len);
		}
		y->len = len;
		break;
	}
	case FYET_ALIAS:
		y->type = Y_ALIAS;
		if (m != NULL && m->input_pos > 0 && m->input_pos <= yf->len &&
		    yf->buf[m->input_pos - 1] == '*' && y->loc.col > 1) {
			y->loc.col--;
		}
		lerr(yf->l, y->loc, "aliases are not allowed");
		break;
	case FYET_MAPPING_START:
		y->type = Y_MAP;
		refuse_tag(b, fye->mapping_start.tag);
		break;
	default:
		y->type = Y_SEQ;
		refuse_tag(b, fye->sequence_start.tag);
		break;
	}
	attach(b, y);
	if (y->type == Y_MAP || y->type == Y_SEQ) {
		if (b->depth == MAX_DEPTH) {
			lerr(yf->l, y->loc, "nesting deeper than %d levels",
			    MAX_DEPTH);
			b->stop   = true;
			b->broken = true;
			return;
		}
		b->stack[b->depth++] = y;
	}
}

static void
on_event(builder *b, struct fy_event *fye)
{
	const struct fy_mark *m;

	switch (fye->type) {
	case FYET_DOCUMENT_START:
		if (++b->docs > 1) {
			m = fy_event_start_mark(fye);
			lerr(b->yf->l,
			    m != NULL ? mark_loc(b->yf, m) : b->last,
			    "a rule file holds one YAML document; this is a "
			    "second one");
			b->stop = true;
		}
		break;
	case FYET_SCALAR:
	case FYET_ALIAS:
	case FYET_MAPPING_START:
	case FYET_SEQUENCE_START:
		on_node(b, fye);
		break;
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END:
		if (b->depth > 0) {
			b->depth--;
		}
		break;
	default:
		break;
	}
	if ((m = fy_event_end_mark(fye)) != NULL) {
		b->last = mark_loc(b->yf, m);
	}
}

/* yaml_errors copies libfyaml's collected errors. */
static void
yaml_errors(yfile *yf, struct fy_diag *fyd, bool failed)
{
	struct fy_diag_error *e;
	void                 *it = NULL;
	size_t                n  = 0;

	while ((e = fy_diag_errors_iterate(fyd, &it)) != NULL) {
		if (e->type < FYET_ERROR) {
			continue;
		}
		lerr(yf->l,
		    mkloc(yf->file, e->line > 0 ? (uint32_t) e->line : 0,
		        e->column > 0 ? (uint32_t) e->column : 0),
		    "%s", e->msg != NULL ? e->msg : "malformed YAML");
		n++;
	}
	if (failed && n == 0) {
		lerr(yf->l, mkloc(yf->file, 0, 0), "malformed YAML");
	}
}

/* A diagnostics sink: libfyaml must never print. */
static void
fy_quiet(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void) diag;
	(void) user;
	(void) buf;
	(void) len;
}

/* parse_tree runs libfyaml over the file; 0 when the tree is complete
 * (aliases and tags are reported and left in it, to be skipped). */
static int
parse_tree(yfile *yf)
{
	struct fy_diag_cfg  dcfg;
	struct fy_parse_cfg pcfg;
	struct fy_diag     *fyd = NULL;
	struct fy_parser   *fyp = NULL;
	struct fy_event    *fye;
	builder             b;
	bool                failed;

	memset(&b, 0, sizeof(b));
	b.yf   = yf;
	b.last = mkloc(yf->file, 1, 1);
	fy_diag_cfg_default(&dcfg);
	dcfg.fp        = NULL;
	dcfg.output_fn = fy_quiet;
	dcfg.colorize  = false;
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_DISABLE_MMAP_OPT | FYPCF_JSON_NONE;
	if ((fyd = fy_diag_create(&dcfg)) == NULL) {
		oom(yf->l);
		return (-1);
	}
	fy_diag_set_collect_errors(fyd, true);
	pcfg.diag = fyd;
	if ((fyp = fy_parser_create(&pcfg)) == NULL ||
	    fy_parser_set_string(fyp, yf->len > 0 ? yf->buf : "", yf->len) !=
	        0) {
		fy_parser_destroy(fyp);
		fy_diag_destroy(fyd);
		oom(yf->l);
		return (-1);
	}
	while (!b.stop && (fye = fy_parser_parse(fyp)) != NULL) {
		on_event(&b, fye);
		fy_parser_event_free(fyp, fye);
	}
	failed = !b.stop && fy_parser_get_stream_error(fyp);
	if (failed) {
		yaml_errors(yf, fyd, true);
	}
	fy_parser_destroy(fyp);
	fy_diag_destroy(fyd);
	return (yf->l->fatal != CEP_OK || failed || b.broken ? -1 : 0);
}

/* ------------------------------------------------------------------ */
/* Stage 3: keys of every mapping                                     */
/* ------------------------------------------------------------------ */

static int
cmp_keys(const void *a, const void *b)
{
	const ynode *x = *(const ynode *const *) a;
	const ynode *y = *(const ynode *const *) b;
	size_t       n = x->len < y->len ? x->len : y->len;
	int          c = memcmp(x->s, y->s, n);

	if (c != 0) {
		return (c);
	}
	if (x->len != y->len) {
		return (x->len < y->len ? -1 : 1);
	}
	return (loc_before(x->loc, y->loc) ? -1 : loc_before(y->loc, x->loc));
}

/* check_keys reports duplicate keys (at the second one) and keys that are
 * not scalars, in every mapping, and marks both for the schema to skip.
 * Keys are sorted, so a mapping of many keys stays fast. */
static void
check_keys(yfile *yf, ynode *y)
{
	ynode **keys;
	size_t  n = 0;

	if (y == NULL || yf->l->fatal != CEP_OK) {
		return;
	}
	for (ynode *c = y->first; c != NULL; c = c->next) {
		check_keys(yf, c);
	}
	if (y->type != Y_MAP || y->n < 2) {
		return;
	}
	if ((keys = cep_calloc(y->n / 2, sizeof(ynode *))) == NULL) {
		oom(yf->l);
		return;
	}
	PAIRS(k, y)
	{
		if (k->type != Y_SCALAR) {
			if (k->type != Y_ALIAS) {
				lerr(yf->l, k->loc, "a key must be a scalar");
			}
			k->skip = true;
		} else {
			keys[n++] = k;
		}
	}
	qsort(keys, n, sizeof(ynode *), cmp_keys);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (keys[i]->len != keys[first]->len ||
		    memcmp(keys[i]->s, keys[first]->s, keys[i]->len) != 0) {
			first = i;
			continue;
		}
		lerr(yf->l, keys[i]->loc,
		    "duplicate key '%s' (first at %u:%u)", keys[i]->s,
		    keys[first]->loc.line, keys[first]->loc.col);
		keys[i]->skip = true;
	}
	cep_free(keys, y->n / 2 * sizeof(ynode *));
}

/* ------------------------------------------------------------------ */
/* Stage 4: the schema, values                                        */
/* ------------------------------------------------------------------ */

static bool
is_null(const ynode *y)
{
	return (y->type == Y_SCALAR && y->style == FYSS_PLAIN &&
	    (y->len == 0 || strcmp(y->s, "~") == 0 ||
	        strcmp(y->s, "null") == 0 || strcmp(y->s, "Null") == 0 ||
	        strcmp(y->s, "NULL") == 0));
}

/* want_str: a scalar that is not null (a text value). */
static int
want_str(yfile *yf, const ynode *v, const char *key, const char *what)
{
	if (v->type == Y_ALIAS) {
		return (-1);
	}
	if (v->type != Y_SCALAR || is_null(v)) {
		lerr(yf->l, v->loc, "'%s' must be %s", key, what);
		return (-1);
	}
	return (0);
}

/* want_bool_quiet: a YAML boolean (plain true, True, TRUE, false, ...). */
static bool
want_bool_quiet(const ynode *v, bool *out)
{
	if (v->type != Y_SCALAR || v->style != FYSS_PLAIN) {
		return (false);
	}
	if (strcmp(v->s, "true") == 0 || strcmp(v->s, "True") == 0 ||
	    strcmp(v->s, "TRUE") == 0) {
		*out = true;
		return (true);
	}
	if (strcmp(v->s, "false") == 0 || strcmp(v->s, "False") == 0 ||
	    strcmp(v->s, "FALSE") == 0) {
		*out = false;
		return (true);
	}
	return (false);
}

static int
want_bool(yfile *yf, const ynode *v, const char *key, bool *out)
{
	if (v->type == Y_ALIAS) {
		return (-1);
	}
	if (want_bool_quiet(v, out)) {
		return (0);
	}
	lerr(yf->l, v->loc, "'%s' must be true or false", key);
	return (-1);
}

/* parse_u64: a plain decimal integer (an optional '+'); -1 when it is
 * not one, -2 when it is too large. */
static int
parse_u64(const ynode *v, uint64_t *out)
{
	const char *s = v->s;
	uint64_t    x = 0;

	if (v->type != Y_SCALAR || v->style != FYSS_PLAIN) {
		return (-1);
	}
	if (*s == '+') {
		s++;
	}
	if (*s == '\0' || strspn(s, "0123456789") != strlen(s)) {
		return (-1);
	}
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned) (*s - '0');
		if (x > (UINT64_MAX - d) / 10) {
			return (-2);
		}
		x = x * 10 + d;
	}
	*out = x;
	return (0);
}

/* want_count: an integer in [min, max]; `what` describes the range. */
static int
want_count(yfile *yf, const ynode *v, const char *key, uint64_t min,
    uint64_t max, uint64_t *out)
{
	uint64_t x;
	int      rv;

	if (v->type == Y_ALIAS) {
		return (-1);
	}
	if ((rv = parse_u64(v, &x)) == -1) {
		lerr(yf->l, v->loc, "'%s' must be an integer >= %llu", key,
		    (unsigned long long) min);
		return (-1);
	}
	if (rv == -2 || x > max) {
		lerr(yf->l, v->loc, "'%s' is too large (at most %llu)", key,
		    (unsigned long long) max);
		return (-1);
	}
	if (x < min) {
		lerr(yf->l, v->loc, "'%s' must be at least %llu", key,
		    (unsigned long long) min);
		return (-1);
	}
	*out = x;
	return (0);
}

/* want_duration: an integer and a unit (ms, s, m, h, d), in ms. */
static int
want_duration(
    yfile *yf, const ynode *v, const char *key, bool zero_ok, int64_t *out)
{
	int64_t ms;
	cep_err rv;

	if (v->type == Y_ALIAS) {
		return (-1);
	}
	rv = v->type == Y_SCALAR && v->style == FYSS_PLAIN
	    ? cep_duration_parse(v->s, strlen(v->s), &ms)
	    : CEP_EINVAL;
	if (rv == CEP_ERANGE) {
		lerr(yf->l, v->loc, "'%s' is too large", key);
		return (-1);
	}
	if (rv != CEP_OK) {
		lerr(yf->l, v->loc,
		    "'%s' must be a duration: an integer followed by ms, s, m, "
		    "h or d (like 250ms or 10m)",
		    key);
		return (-1);
	}
	if (ms == 0 && !zero_ok) {
		lerr(yf->l, v->loc, "'%s' must be greater than 0", key);
		return (-1);
	}
	*out = ms;
	return (0);
}

/* want_path: a field path such as card_id or src.ip. */
static int
want_path(yfile *yf, const ynode *v, const char *key, cep_path *out)
{
	cep_path p;
	cep_err  rv;

	if (want_str(yf, v, key, "a field path such as card_id or src.ip") !=
	    0) {
		return (-1);
	}
	if ((rv = cep_path_parse(&p, v->s, v->len)) == CEP_ENOMEM) {
		oom(yf->l);
		return (-1);
	}
	if (rv == CEP_ELIMIT) {
		lerr(yf->l, v->loc,
		    "'%s': a field name is too long (at most %u "
		    "bytes)",
		    key, CEP_SYM_MAX_LEN);
		return (-1);
	}
	if (rv != CEP_OK) {
		lerr(yf->l, v->loc,
		    "'%s' must be a field path such as card_id or src.ip",
		    key);
		return (-1);
	}
	cep_path_fini(out);
	*out = p;
	return (0);
}

/* name_ok: a name of [first][rest]*, each a set of characters. */
static bool
name_ok(const ynode *v, bool digit_first, const char *rest)
{
	unsigned char c;

	if (v->type != Y_SCALAR || v->len == 0 || strlen(v->s) != v->len) {
		return (false);
	}
	c = (unsigned char) v->s[0];
	if (!digit_first &&
	    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')) {
		return (false);
	}
	for (size_t i = 0; i < v->len; i++) {
		c = (unsigned char) v->s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || strchr(rest, c) != NULL)) {
			return (false);
		}
	}
	return (true);
}

/* ------------------------------------------------------------------ */
/* Stage 4: the schema, keys                                          */
/* ------------------------------------------------------------------ */

typedef enum kctx {
	CTX_TOP,
	CTX_DEFAULTS,
	CTX_PATTERN,
	CTX_STEP,
	CTX_SKIP,
	CTX_STREAM,
	CTX_WINDOW,
} kctx;

static const char *const top_keys[] = { "patterns", "defaults", "streams" };

static const char *const default_keys[] = { "key", "time", "within",
	"max_delay" };

enum {
	PK_NAME,
	PK_DESCRIPTION,
	PK_KEY,
	PK_TIME,
	PK_MAX_DELAY,
	PK_FROM,
	PK_WITHIN,
	PK_SKIP,
	PK_TIMEOUTS,
	PK_SEQUENCE,
	PK_EMIT,
	PK_MAX_PARTIAL_MATCHES,
	PK_OVERFLOW,
	PK_KEY_TTL,
	PK_SHADOW,
	PK__N
};

static const char *const pattern_keys[PK__N] = { "name", "description", "key",
	"time", "max_delay", "from", "within", "skip", "timeouts", "sequence",
	"emit", "max_partial_matches", "overflow", "key_ttl", "shadow" };

/* The kind keys come first, in the order of enum nfa_join. */
enum {
	SK_BEGIN,
	SK_NEXT,
	SK_FOLLOWED_BY,
	SK_FOLLOWED_BY_ANY,
	SK_NOT_NEXT,
	SK_NOT_FOLLOWED_BY,
	SK_WHERE,
	SK_UNTIL,
	SK_TIMES,
	SK_ONE_OR_MORE,
	SK_TIMES_OR_MORE,
	SK_OPTIONAL,
	SK_GREEDY,
	SK_CONSECUTIVE,
	SK_ALLOW_COMBINATIONS,
	SK_MAX_GAP,
	SK_SEQUENCE,
	SK__N
};

#define SK_NKINDS (SK_NOT_FOLLOWED_BY + 1)

static const char *const step_keys[SK__N] = { "begin", "next", "followed_by",
	"followed_by_any", "not_next", "not_followed_by", "where", "until",
	"times", "one_or_more", "times_or_more", "optional", "greedy",
	"consecutive", "allow_combinations", "max_gap", "sequence" };

static const char *const skip_keys[] = { "skip_to_first", "skip_to_last" };

enum {
	TK_NAME,
	TK_FROM,
	TK_WHERE,
	TK_KEY,
	TK_TIME,
	TK_MAX_DELAY,
	TK_WINDOW,
	TK_AGGREGATE,
	TK__N
};

static const char *const stream_keys[TK__N] = { "name", "from", "where",
	"key", "time", "max_delay", "window", "aggregate" };

static const char *const window_keys[] = { "tumble", "slide", "every",
	"session" };

static const char *const skip_names[] = { "no_skip", "skip_to_next",
	"skip_past_last_event" };

static const char *const overflow_names[] = { "drop_oldest", "drop_newest",
	"reject_start" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
find_key(const char *s, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, keys[i]) == 0) {
			return ((int) i);
		}
	}
	return (-1);
}

/* distance: Levenshtein distance, giving up (returning 3) past 2. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64], prev, tmp;

	if (la >= NELEM(row) || lb >= NELEM(row) ||
	    (la > lb ? la - lb : lb - la) > 2) {
		return (3);
	}
	for (size_t j = 0; j <= lb; j++) {
		row[j] = j;
	}
	for (size_t i = 1; i <= la; i++) {
		prev   = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best) {
				best = row[j] + 1;
			}
			if (row[j - 1] + 1 < best) {
				best = row[j - 1] + 1;
			}
			tmp    = row[j];
			row[j] = best;
			prev   = tmp;
		}
	}
	return (row[lb]);
}

/* suggest: the candidate nearest to s, within distance 2, or NULL. */
static const char *
suggest(const char *s, const char *const *cands, size_t n)
{
	const char *best  = NULL;
	size_t      bestd = 3, d;

	for (size_t i = 0; i < n; i++) {
		if ((d = distance(s, cands[i])) < bestd) {
			best  = cands[i];
			bestd = d;
		}
	}
	return (best);
}

/* unknown_key reports a key the context does not have: misplaced when
 * another context has it, else with the nearest known key. */
static void
unknown_key(yfile *yf, const ynode *k, kctx ctx)
{
	static const struct {
		const char *const *keys;
		size_t             n;
		const char        *where;
	} ctxs[] = {
		[CTX_TOP] = { top_keys, NELEM(top_keys), "at the top level" },
		[CTX_DEFAULTS] = { default_keys, NELEM(default_keys),
		    "in defaults" },
		[CTX_PATTERN]  = { pattern_keys, PK__N, "in a pattern" },
		[CTX_STEP]     = { step_keys, SK__N, "in a step" },
		[CTX_SKIP]     = { skip_keys, NELEM(skip_keys), "in skip" },
		[CTX_STREAM]   = { stream_keys, TK__N, "in a stream" },
		[CTX_WINDOW]   = { window_keys, NELEM(window_keys),
		      "in window" },
	};
	const char *near;

	if (ctx == CTX_STEP && find_key(k->s, pattern_keys, PK__N) >= 0) {
		lerr(yf->l, k->loc, "'%s' is a pattern key, not a step key",
		    k->s);
		return;
	}
	if (ctx == CTX_PATTERN && find_key(k->s, step_keys, SK__N) >= 0) {
		lerr(yf->l, k->loc, "'%s' is a step key, not a pattern key",
		    k->s);
		return;
	}
	if (ctx == CTX_TOP && find_key(k->s, pattern_keys, PK__N) >= 0) {
		lerr(yf->l, k->loc,
		    "'%s' is a pattern key; patterns go in a list under "
		    "'patterns'",
		    k->s);
		return;
	}
	if (ctx == CTX_DEFAULTS && find_key(k->s, pattern_keys, PK__N) >= 0) {
		lerr(yf->l, k->loc,
		    "'%s' has no default; set it on each pattern", k->s);
		return;
	}
	if ((near = suggest(k->s, ctxs[ctx].keys, ctxs[ctx].n)) != NULL) {
		lerr(yf->l, k->loc, "unknown key '%s' %s; did you mean '%s'?",
		    k->s, ctxs[ctx].where, near);
	} else {
		lerr(yf->l, k->loc, "unknown key '%s' %s", k->s,
		    ctxs[ctx].where);
	}
}

/* collect fills keys[i]/vals[i] with the pair of known key i and reports
 * every other key. */
static void
collect(yfile *yf, const ynode *map, kctx ctx, const char *const *names,
    size_t n, ynode **keys, ynode **vals)
{
	int i;

	memset(keys, 0, n * sizeof(ynode *));
	memset(vals, 0, n * sizeof(ynode *));
	PAIRS(k, map)
	{
		if (k->skip) {
			continue;
		}
		if ((i = find_key(k->s, names, n)) < 0) {
			unknown_key(yf, k, ctx);
			continue;
		}
		keys[i] = k;
		vals[i] = k->next;
	}
}

/* ------------------------------------------------------------------ */
/* Stage 4: defaults                                                  */
/* ------------------------------------------------------------------ */

static void
load_defaults(yfile *yf, const ynode *v)
{
	defaults *d = &yf->defs;
	ynode    *keys[NELEM(default_keys)], *vals[NELEM(default_keys)];
	cep_path  probe = { 0 };

	if (v->type == Y_ALIAS) {
		return;
	}
	if (v->type != Y_MAP) {
		lerr(yf->l, v->loc,
		    "'defaults' must be a mapping (key, time, within, "
		    "max_delay)");
		return;
	}
	collect(yf, v, CTX_DEFAULTS, default_keys, NELEM(default_keys), keys,
	    vals);
	// Paths are parsed here to be checked once, and again per pattern.
	if (vals[0] != NULL && want_path(yf, vals[0], "key", &probe) == 0) {
		d->key     = vals[0];
		d->key_loc = keys[0]->loc;
	}
	cep_path_fini(&probe);
	if (vals[1] != NULL && want_path(yf, vals[1], "time", &probe) == 0) {
		d->time     = vals[1];
		d->time_loc = keys[1]->loc;
	}
	cep_path_fini(&probe);
	if (vals[2] != NULL) {
		d->within_loc = keys[2]->loc;
		d->within_set = true;
		if (want_duration(yf, vals[2], "within", false, &d->within) !=
		    0) {
			d->within = INT64_MAX; // placeholder: no follow-ons
		}
	}
	if (vals[3] != NULL) {
		d->max_delay_loc = keys[3]->loc;
		d->max_delay_set = true;
		(void) want_duration(
		    yf, vals[3], "max_delay", true, &d->max_delay);
	}
}

/* ------------------------------------------------------------------ */
/* Stage 4: steps                                                     */
/* ------------------------------------------------------------------ */

/* One pattern being built. */
typedef struct pbuild {
	yfile       *yf;
	nfa_pattern *p;
	char       **leaves; /* leaf names, grown; moved to p at the end */
	size_t       nleaves;
	size_t       leaves_cap;
	uint8_t     *visible; /* scratch for expression scopes */
} pbuild;

static void build_steps(
    pbuild *pb, const ynode *seq, nfa_step **out, size_t *nout);

static void
add_leaf(pbuild *pb, nfa_step *s)
{
	char *name;

	if (pb->yf->l->fatal != CEP_OK) {
		return;
	}
	if (cep_grow(&pb->leaves, &pb->leaves_cap, pb->nleaves + 1,
	        sizeof(char *)) != 0 ||
	    (name = cep_strdup(s->name != NULL ? s->name : "")) == NULL) {
		oom(pb->yf->l);
		return;
	}
	s->leaf                   = (uint32_t) pb->nleaves;
	pb->leaves[pb->nleaves++] = name;
}

/* want_seq: a non-empty list of steps. */
static int
want_seq(yfile *yf, const ynode *v)
{
	if (v->type == Y_ALIAS) {
		return (-1);
	}
	if (v->type != Y_SEQ) {
		lerr(yf->l, v->loc, "'sequence' must be a list of steps");
		return (-1);
	}
	if (v->n == 0) {
		lerr(yf->l, v->loc, "'sequence' must not be empty");
		return (-1);
	}
	return (0);
}

static void
load_times(yfile *yf, const ynode *v, nfa_step *s)
{
	uint64_t lo, hi;

	s->quant     = NFA_QUANT_TIMES;
	s->times_min = 1; // placeholders until the value is known good
	s->times_max = 1;
	if (v->type == Y_ALIAS) {
		return;
	}
	if (v->type == Y_SCALAR) {
		if (parse_u64(v, &lo) == -1) {
			lerr(yf->l, v->loc,
			    "'times' must be an integer or a list [N, M]");
		} else if (want_count(yf, v, "times", 1, UINT32_MAX, &lo) ==
		    0) {
			s->times_min = s->times_max = (uint32_t) lo;
		}
		return;
	}
	if (v->type != Y_SEQ || v->n != 2) {
		lerr(yf->l, v->loc,
		    "'times' must be an integer or a list [N, M]");
		return;
	}
	if (want_count(yf, v->first, "times", 0, UINT32_MAX, &lo) != 0 ||
	    want_count(yf, v->last, "times", 0, UINT32_MAX, &hi) != 0) {
		return;
	}
	if (hi < 1) {
		lerr(yf->l, v->last->loc, "'times': M must be at least 1");
	} else if (lo > hi) {
		lerr(yf->l, v->loc, "'times': N must not be greater than M");
	} else {
		s->times_min = (uint32_t) lo;
		s->times_max = (uint32_t) hi;
	}
}

/* load_quant handles one of the three quantifier keys. */
static void
load_quant(yfile *yf, int sk, const ynode *k, const ynode *v, nfa_step *s,
    const ynode **first)
{
	bool     b = true;
	uint64_t x;

	if (sk == SK_ONE_OR_MORE) {
		if (want_bool(yf, v, "one_or_more", &b) == 0 && !b) {
			return; // false is the same as absent
		}
	}
	if (*first != NULL) {
		lerr(yf->l, k->loc,
		    "step '%s' already has a quantifier ('%s' at %u:%u)",
		    s->name != NULL ? s->name : "?", (*first)->s,
		    (*first)->loc.line, (*first)->loc.col);
		return;
	}
	*first        = k;
	s->locs.quant = k->loc;
	switch (sk) {
	case SK_TIMES:
		load_times(yf, v, s);
		break;
	case SK_ONE_OR_MORE:
		s->quant = NFA_QUANT_ONE_OR_MORE;
		break;
	default:
		s->quant     = NFA_QUANT_TIMES_OR_MORE;
		s->times_min = 1;
		if (want_count(yf, v, "times_or_more", 1, UINT32_MAX, &x) ==
		    0) {
			s->times_min = (uint32_t) x;
		}
		break;
	}
}

/* load_flag handles optional, greedy, consecutive, allow_combinations:
 * false, or a value that is not a boolean, is the same as absent. */
static void
load_flag(yfile *yf, const ynode *k, const ynode *v, bool *flag, cep_loc *loc)
{
	bool b;

	*loc = k->loc;
	if (want_bool(yf, v, k->s, &b) == 0) {
		*flag = b;
	}
}

/* build_step fills one step (pass 1: everything but expressions). */
static void
build_step(pbuild *pb, const ynode *item, size_t idx, nfa_step *s)
{
	yfile       *yf = pb->yf;
	ynode       *keys[SK__N], *vals[SK__N];
	const ynode *kind = NULL, *quant = NULL;
	int          sk;

	s->join = idx == 0 ? NFA_JOIN_BEGIN : NFA_JOIN_FOLLOWED_BY;
	s->leaf = UINT32_MAX;
	if (item->type != Y_MAP) {
		if (item->type != Y_ALIAS) {
			lerr(yf->l, item->loc, "a step must be a mapping");
		}
		add_leaf(pb, s);
		return;
	}
	collect(yf, item, CTX_STEP, step_keys, SK__N, keys, vals);
	// The kind: the first kind key written; any other is an error.
	for (sk = 0; sk < SK_NKINDS; sk++) {
		if (keys[sk] != NULL &&
		    (kind == NULL || loc_before(keys[sk]->loc, kind->loc))) {
			kind = keys[sk];
		}
	}
	if (kind == NULL) {
		lerr(yf->l, item->loc,
		    "a step needs one of begin, next, followed_by, "
		    "followed_by_any, not_next, not_followed_by");
	} else {
		const ynode *v = kind->next;
		s->join      = (nfa_join) find_key(kind->s, step_keys, SK__N);
		s->locs.step = kind->loc;
		if (want_str(yf, v, kind->s, "a step name") == 0) {
			if (!name_ok(v, false, "_-")) {
				lerr(yf->l, v->loc,
				    "invalid step name '%s': use a letter or "
				    "'_', then letters, digits, '_' or '-'",
				    v->s);
			}
			if ((s->name = cep_strdup(v->s)) == NULL) {
				oom(yf->l);
				return;
			}
		}
		for (sk = 0; sk < SK_NKINDS; sk++) {
			if (keys[sk] != NULL && keys[sk] != kind) {
				lerr(yf->l, keys[sk]->loc,
				    "a step has one kind; this one has '%s' "
				    "already (at %u:%u)",
				    kind->s, kind->loc.line, kind->loc.col);
			}
		}
	}
	// Quantifiers in document order, so the second one is the error.
	PAIRS(k, item)
	{
		if (!k->skip && (sk = find_key(k->s, step_keys, SK__N)) >= 0 &&
		    (sk == SK_TIMES || sk == SK_ONE_OR_MORE ||
		        sk == SK_TIMES_OR_MORE)) {
			load_quant(yf, sk, k, k->next, s, &quant);
		}
	}
	if (keys[SK_WHERE] != NULL) {
		s->locs.where = keys[SK_WHERE]->loc;
	}
	if (keys[SK_UNTIL] != NULL) {
		s->locs.until = keys[SK_UNTIL]->loc;
	}
	if (keys[SK_OPTIONAL] != NULL) {
		load_flag(yf, keys[SK_OPTIONAL], vals[SK_OPTIONAL],
		    &s->optional, &s->locs.optional);
	}
	if (keys[SK_GREEDY] != NULL) {
		load_flag(yf, keys[SK_GREEDY], vals[SK_GREEDY], &s->greedy,
		    &s->locs.greedy);
	}
	if (keys[SK_CONSECUTIVE] != NULL) {
		load_flag(yf, keys[SK_CONSECUTIVE], vals[SK_CONSECUTIVE],
		    &s->consecutive, &s->locs.consecutive);
	}
	if (keys[SK_ALLOW_COMBINATIONS] != NULL) {
		load_flag(yf, keys[SK_ALLOW_COMBINATIONS],
		    vals[SK_ALLOW_COMBINATIONS], &s->allow_combinations,
		    &s->locs.allow_combinations);
	}
	if (keys[SK_MAX_GAP] != NULL) {
		s->locs.max_gap = keys[SK_MAX_GAP]->loc;
		if (want_duration(yf, vals[SK_MAX_GAP], "max_gap", false,
		        &s->max_gap) != 0) {
			s->max_gap = 1; // placeholder: "set" and tiny
		}
	}
	if (keys[SK_SEQUENCE] != NULL) {
		s->locs.sequence = keys[SK_SEQUENCE]->loc;
		if (want_seq(yf, vals[SK_SEQUENCE]) == 0) {
			build_steps(
			    pb, vals[SK_SEQUENCE], &s->group, &s->ngroup);
			return;
		}
	}
	add_leaf(pb, s);
}

/* build_steps allocates and fills the steps of a non-empty list. */
static void
build_steps(pbuild *pb, const ynode *seq, nfa_step **out, size_t *nout)
{
	nfa_step    *steps;
	const ynode *item;
	size_t       i;

	if ((steps = cep_calloc(seq->n, sizeof(nfa_step))) == NULL) {
		oom(pb->yf->l);
		return;
	}
	*out  = steps;
	*nout = seq->n;
	for (i = 0, item = seq->first; item != NULL && i < seq->n;
	     i++, item   = item->next) {
		if (pb->yf->l->fatal != CEP_OK) {
			return;
		}
		build_step(pb, item, i, &steps[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Stage 4: expressions                                               */
/* ------------------------------------------------------------------ */

static bool
step_loops(const nfa_step *s)
{
	return (s->quant == NFA_QUANT_ONE_OR_MORE ||
	    s->quant == NFA_QUANT_TIMES_OR_MORE ||
	    (s->quant == NFA_QUANT_TIMES && s->times_max > 1));
}

/* leaf_range: the leaves [*lo, *hi) a step covers (groups flattened). */
static void
leaf_range(const nfa_step *s, uint32_t *lo, uint32_t *hi)
{
	uint32_t a, b;

	if (s->group == NULL) {
		*lo = s->leaf;
		*hi = s->leaf == UINT32_MAX ? s->leaf : s->leaf + 1;
		return;
	}
	*lo = UINT32_MAX;
	*hi = 0;
	for (size_t i = 0; i < s->ngroup; i++) {
		leaf_range(&s->group[i], &a, &b);
		if (a < *lo) {
			*lo = a;
		}
		if (b != UINT32_MAX && b > *hi) {
			*hi = b;
		}
	}
	if (*lo == UINT32_MAX) {
		*hi = UINT32_MAX;
	}
}

static bool
is_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/* compile_expr compiles one where/until/emit value.  `vis` is NULL for
 * emit (every step visible). */
static nfa_expr *
compile_expr(pbuild *pb, const ynode *v, const char *key, const uint8_t *vis,
    const char *current)
{
	yfile      *yf = pb->yf;
	nfa_scope   sc;
	nfa_expr   *e = NULL;
	const char *text;
	size_t      before, len;
	bool        b;
	cep_err     rv;

	if (want_str(yf, v, key, "an expression") != 0) {
		return (NULL);
	}
	// An expression over several lines of a plain or block scalar is
	// compiled from its source, so that positions past its first line
	// are right (YAML folds lines and strips indentation; both are
	// white space to an expression).  Quoted scalars have escapes.
	text = v->s;
	len  = v->len;
	if (v->style == FYSS_PLAIN && want_bool_quiet(v, &b)) {
		// A YAML boolean (True, FALSE, ...) is that literal.
		text = b ? "true" : "false";
		len  = strlen(text);
	}
	if ((v->style == FYSS_PLAIN || v->style == FYSS_LITERAL ||
	        v->style == FYSS_FOLDED) &&
	    v->src_end > v->src) {
		size_t end = v->src_end;
		while (end > v->src && is_space(yf->buf[end - 1])) {
			end--;
		}
		if (memchr(yf->buf + v->src, '\n', end - v->src) != NULL ||
		    memchr(yf->buf + v->src, '\r', end - v->src) != NULL) {
			text = yf->buf + v->src;
			len  = end - v->src;
		}
	}
	sc.steps   = (const char *const *) pb->leaves;
	sc.nsteps  = pb->nleaves;
	sc.visible = vis;
	sc.current = current;
	sc.loc     = v->text;
	before     = cep_diag_count(yf->l->diag, -1);
	rv         = nfa_expr_compile(text, len, &sc, &e, yf->l->diag);
	if (rv == CEP_ENOMEM) {
		oom(yf->l);
		return (NULL);
	}
	if (rv != CEP_OK) {
		yf->l->nerr++;
		if (cep_diag_count(yf->l->diag, -1) == before) {
			lerr(
			    yf->l, v->text, "invalid expression in '%s'", key);
		}
		return (NULL);
	}
	return (e);
}

/* first_value: the value of the first (not duplicate) `key` of a map. */
static const ynode *
first_value(const ynode *map, const char *key)
{
	PAIRS(k, map)
	{
		if (!k->skip && strcmp(k->s, key) == 0) {
			return (k->next);
		}
	}
	return (NULL);
}

/* compile_steps: pass 2 over a list of steps, with [loop_lo, loop_hi)
 * the leaves of the outermost looping group around it (whose earlier
 * iterations' events exist). */
static void
compile_steps(pbuild *pb, const ynode *seq, nfa_step *steps, size_t n,
    uint32_t loop_lo, uint32_t loop_hi)
{
	const ynode *item = seq->first, *v;
	uint32_t     lo, hi, in_lo, in_hi;

	for (size_t i = 0; i < n && item != NULL; i++, item = item->next) {
		nfa_step *s = &steps[i];

		if (pb->yf->l->fatal != CEP_OK) {
			return;
		}
		if (item->type != Y_MAP) {
			continue;
		}
		leaf_range(s, &lo, &hi);
		for (size_t j = 0; j < pb->nleaves; j++) {
			pb->visible[j] = j < lo ||
			    (step_loops(s) && j >= lo && j < hi) ||
			    (j >= loop_lo && j < loop_hi);
		}
		if ((v = first_value(item, "where")) != NULL) {
			s->where =
			    compile_expr(pb, v, "where", pb->visible, s->name);
		}
		if ((v = first_value(item, "until")) != NULL) {
			s->until =
			    compile_expr(pb, v, "until", pb->visible, s->name);
		}
		if (s->group != NULL &&
		    (v = first_value(item, "sequence")) != NULL) {
			in_lo = loop_lo;
			in_hi = loop_hi;
			if (loop_lo >= loop_hi && step_loops(s)) {
				in_lo = lo;
				in_hi = hi;
			}
			compile_steps(
			    pb, v, s->group, s->ngroup, in_lo, in_hi);
		}
	}
}

static void
load_emit(pbuild *pb, const ynode *v)
{
	yfile       *yf = pb->yf;
	nfa_pattern *p  = pb->p;
	size_t       n  = 0;

	if (v->type == Y_ALIAS) {
		return;
	}
	if (v->type != Y_MAP) {
		lerr(yf->l, v->loc,
		    "'emit' must be a mapping of output names to expressions");
		return;
	}
	if (v->n == 0) {
		return;
	}
	if ((p->emit = cep_calloc(v->n / 2, sizeof(nfa_emit))) == NULL) {
		oom(yf->l);
		return;
	}
	p->nemit = v->n / 2;
	PAIRS(k, v)
	{
		nfa_emit *e = &p->emit[n++];

		if (k->skip) {
			continue;
		}
		e->loc = k->loc;
		if (!name_ok(k, false, "_")) {
			lerr(yf->l, k->loc,
			    "invalid emit name '%s': use a letter or '_', "
			    "then "
			    "letters, digits or '_'",
			    k->s);
		}
		if ((e->name = cep_strdup(k->s)) == NULL) {
			oom(yf->l);
			return;
		}
		e->expr = compile_expr(pb, k->next, k->s, NULL, NULL);
		if (yf->l->fatal != CEP_OK) {
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Stage 4: patterns                                                  */
/* ------------------------------------------------------------------ */

static void
load_skip(yfile *yf, const ynode *v, nfa_pattern *p)
{
	ynode      *keys[NELEM(skip_keys)], *vals[NELEM(skip_keys)];
	const char *near;
	int         i;

	if (v->type == Y_ALIAS) {
		return;
	}
	if (v->type == Y_SCALAR) {
		if ((i = find_key(v->s, skip_names, NELEM(skip_names))) >= 0) {
			p->skip = (nfa_skip) i;
		} else if ((near = suggest(v->s, skip_names,
		                NELEM(skip_names))) != NULL) {
			lerr(yf->l, v->loc,
			    "unknown skip strategy '%s'; did you mean '%s'?",
			    v->s, near);
		} else {
			lerr(yf->l, v->loc,
			    "unknown skip strategy '%s' (no_skip, "
			    "skip_to_next, skip_past_last_event, "
			    "{skip_to_first: STEP} or {skip_to_last: STEP})",
			    v->s);
		}
		return;
	}
	if (v->type != Y_MAP) {
		lerr(yf->l, v->loc,
		    "'skip' must be no_skip, skip_to_next, "
		    "skip_past_last_event, {skip_to_first: STEP} or "
		    "{skip_to_last: STEP}");
		return;
	}
	collect(yf, v, CTX_SKIP, skip_keys, NELEM(skip_keys), keys, vals);
	if (keys[0] != NULL && keys[1] != NULL) {
		const ynode *second =
		    loc_before(keys[0]->loc, keys[1]->loc) ? keys[1] : keys[0];
		lerr(yf->l, second->loc,
		    "'skip' takes one of skip_to_first and skip_to_last");
		return;
	}
	i = keys[0] != NULL ? 0 : 1;
	if (keys[i] == NULL) {
		if (v->n == 0) {
			lerr(yf->l, v->loc,
			    "'skip' needs skip_to_first or skip_to_last");
		}
		return;
	}
	if (want_str(yf, vals[i], skip_keys[i], "a step name") != 0) {
		return;
	}
	p->skip = i == 0 ? NFA_SKIP_TO_FIRST : NFA_SKIP_TO_LAST;
	if ((p->skip_step = cep_strdup(vals[i]->s)) == NULL) {
		oom(yf->l);
	}
}

static void
load_choice(yfile *yf, const ynode *v, const char *key,
    const char *const *names, size_t n, int *out)
{
	const char *near;
	int         i;

	if (want_str(yf, v, key, "a name") != 0) {
		return;
	}
	if ((i = find_key(v->s, names, n)) >= 0) {
		*out = i;
	} else if ((near = suggest(v->s, names, n)) != NULL) {
		lerr(yf->l, v->loc, "unknown %s '%s'; did you mean '%s'?", key,
		    v->s, near);
	} else {
		lerr(yf->l, v->loc, "unknown %s '%s' (%s, %s or %s)", key,
		    v->s, names[0], names[1], names[2]);
	}
}

/* add_name registers a pattern name; check_names reports the repeats. */
static void
add_name(loader *l, const char *name, cep_loc loc)
{
	if (cep_grow(&l->names, &l->names_cap, l->nnames + 1, sizeof(pname)) !=
	    0) {
		oom(l);
		return;
	}
	l->names[l->nnames].name  = name;
	l->names[l->nnames].order = l->nnames;
	l->names[l->nnames++].loc = loc;
}

static int
cmp_names(const void *a, const void *b)
{
	const pname *x = a, *y = b;
	int          c = strcmp(x->name, y->name);

	if (c != 0) {
		return (c);
	}
	return (x->order < y->order ? -1 : x->order > y->order);
}

/* check_names reports every pattern name used before, at the repeat,
 * naming the first (in file order, then document order). */
static void
check_names(loader *l)
{
	if (l->nnames < 2) {
		return;
	}
	qsort(l->names, l->nnames, sizeof(pname), cmp_names);
	for (size_t i = 1, first = 0; i < l->nnames; i++) {
		if (strcmp(l->names[i].name, l->names[first].name) != 0) {
			first = i;
			continue;
		}
		lerr(l, l->names[i].loc,
		    "duplicate pattern name '%s' (first at %s:%u:%u)",
		    l->names[i].name, l->names[first].loc.file,
		    l->names[first].loc.line, l->names[first].loc.col);
	}
}

/* pattern_fields loads the scalar fields of a pattern. */
static void
pattern_fields(yfile *yf, nfa_pattern *p, ynode **keys, ynode **vals)
{
	const defaults *d = &yf->defs;
	bool            b;
	uint64_t        x;
	int             choice;

	if (vals[PK_DESCRIPTION] != NULL &&
	    want_str(yf, vals[PK_DESCRIPTION], "description", "a string") ==
	        0 &&
	    (p->description = cep_strdup(vals[PK_DESCRIPTION]->s)) == NULL) {
		oom(yf->l);
		return;
	}
	if (vals[PK_KEY] != NULL) {
		p->locs.key = keys[PK_KEY]->loc;
		(void) want_path(yf, vals[PK_KEY], "key", &p->key);
	} else if (d->key != NULL) {
		p->locs.key = d->key_loc;
		(void) want_path(yf, d->key, "key", &p->key);
	}
	if (vals[PK_TIME] != NULL) {
		p->locs.time = keys[PK_TIME]->loc;
		(void) want_path(yf, vals[PK_TIME], "time", &p->time);
	} else if (d->time != NULL) {
		p->locs.time = d->time_loc;
		(void) want_path(yf, d->time, "time", &p->time);
	}
	if (vals[PK_MAX_DELAY] != NULL) {
		p->locs.max_delay = keys[PK_MAX_DELAY]->loc;
		p->max_delay_set  = true;
		(void) want_duration(
		    yf, vals[PK_MAX_DELAY], "max_delay", true, &p->max_delay);
	} else if (d->max_delay_set) {
		p->locs.max_delay = d->max_delay_loc;
		p->max_delay_set  = true;
		p->max_delay      = d->max_delay;
	}
	if (vals[PK_FROM] != NULL) {
		/* Checked once every file is read: streams may be anywhere. */
		p->locs.from = vals[PK_FROM]->loc;
		if (want_str(yf, vals[PK_FROM], "from", "a stream name") == 0) {
			cep_strfree(p->from);
			if ((p->from = cep_strdup(vals[PK_FROM]->s)) == NULL) {
				oom(yf->l);
				return;
			}
		}
	}
	if (vals[PK_WITHIN] != NULL) {
		p->locs.within = keys[PK_WITHIN]->loc;
		if (want_duration(yf, vals[PK_WITHIN], "within", false,
		        &p->within) != 0) {
			p->within = INT64_MAX; // placeholder: no follow-ons
		}
	} else if (d->within_set) {
		p->locs.within = d->within_loc;
		p->within      = d->within;
	}
	if (vals[PK_SKIP] != NULL) {
		p->locs.skip = keys[PK_SKIP]->loc;
		load_skip(yf, vals[PK_SKIP], p);
	}
	if (vals[PK_TIMEOUTS] != NULL &&
	    want_bool(yf, vals[PK_TIMEOUTS], "timeouts", &b) == 0) {
		p->timeouts = b;
	}
	if (vals[PK_MAX_PARTIAL_MATCHES] != NULL) {
		p->locs.max_partial_matches =
		    keys[PK_MAX_PARTIAL_MATCHES]->loc;
		if (want_count(yf, vals[PK_MAX_PARTIAL_MATCHES],
		        "max_partial_matches", 1, UINT64_MAX, &x) == 0) {
			p->max_partial_matches = x;
		}
	}
	if (vals[PK_OVERFLOW] != NULL) {
		choice = (int) p->overflow;
		load_choice(yf, vals[PK_OVERFLOW], "overflow", overflow_names,
		    NELEM(overflow_names), &choice);
		p->overflow = (nfa_overflow) choice;
	}
	if (vals[PK_KEY_TTL] != NULL) {
		p->locs.key_ttl = keys[PK_KEY_TTL]->loc;
		(void) want_duration(
		    yf, vals[PK_KEY_TTL], "key_ttl", false, &p->key_ttl);
	}
	if (vals[PK_SHADOW] != NULL &&
	    want_bool(yf, vals[PK_SHADOW], "shadow", &b) == 0) {
		p->shadow = b;
	}
}

/* finish_leaves moves the grown leaf array into the pattern, exact. */
static void
finish_leaves(pbuild *pb)
{
	nfa_pattern *p = pb->p;

	if (pb->nleaves > 0 &&
	    (p->leaves = cep_calloc(pb->nleaves, sizeof(char *))) != NULL) {
		memcpy(p->leaves, pb->leaves, pb->nleaves * sizeof(char *));
		p->nleaves = pb->nleaves;
	} else {
		for (size_t i = 0; i < pb->nleaves; i++) {
			cep_strfree(pb->leaves[i]);
		}
		if (pb->nleaves > 0) {
			oom(pb->yf->l);
		}
	}
	cep_free(pb->leaves, pb->leaves_cap * sizeof(char *));
	pb->leaves = NULL;
}

/* load_pattern builds, compiles and validates one pattern; the pattern
 * joins the rule set even when it has errors (the set is then freed). */
static void
load_pattern(yfile *yf, const ynode *item)
{
	loader      *l = yf->l;
	rules_impl  *r = l->r;
	nfa_pattern *p;
	ynode       *keys[PK__N], *vals[PK__N];
	pbuild       pb;
	cep_err      rv;

	if (item->type != Y_MAP) {
		if (item->type != Y_ALIAS) {
			lerr(l, item->loc, "a pattern must be a mapping");
		}
		return;
	}
	if (cep_grow(&r->pub.patterns, &r->patterns_cap, r->pub.npatterns + 1,
	        sizeof(nfa_pattern *)) != 0 ||
	    (p = nfa_pattern_create()) == NULL) {
		oom(l);
		return;
	}
	r->pub.patterns[r->pub.npatterns++] = p;
	collect(yf, item, CTX_PATTERN, pattern_keys, PK__N, keys, vals);
	if (vals[PK_NAME] == NULL) {
		lerr(l, item->loc, "a pattern needs a 'name'");
	} else {
		const ynode *v = vals[PK_NAME];
		p->locs.name   = keys[PK_NAME]->loc;
		if (want_str(yf, v, "name", "a string") == 0) {
			if (!name_ok(v, true, "_.-")) {
				lerr(l, v->loc,
				    "invalid pattern name '%s': use letters, "
				    "digits, '_', '.' and '-'",
				    v->s);
			}
			if ((p->name = cep_strdup(v->s)) == NULL) {
				oom(l);
				return;
			}
			add_name(l, p->name, v->loc);
		}
	}
	pattern_fields(yf, p, keys, vals);
	if (l->fatal != CEP_OK) {
		return;
	}
	memset(&pb, 0, sizeof(pb));
	pb.yf = yf;
	pb.p  = p;
	if (vals[PK_SEQUENCE] == NULL) {
		lerr(l, item->loc, "pattern '%s' needs a 'sequence' of steps",
		    p->name != NULL ? p->name : "?");
	} else {
		p->locs.sequence = keys[PK_SEQUENCE]->loc;
		if (want_seq(yf, vals[PK_SEQUENCE]) == 0) {
			build_steps(
			    &pb, vals[PK_SEQUENCE], &p->steps, &p->nsteps);
		}
	}
	if (l->fatal == CEP_OK && pb.nleaves > 0 &&
	    (pb.visible = cep_zalloc(pb.nleaves)) == NULL) {
		oom(l);
	}
	if (l->fatal == CEP_OK && p->nsteps > 0) {
		compile_steps(&pb, vals[PK_SEQUENCE], p->steps, p->nsteps,
		    UINT32_MAX, 0);
	}
	if (l->fatal == CEP_OK && vals[PK_EMIT] != NULL) {
		load_emit(&pb, vals[PK_EMIT]);
	}
	cep_free(pb.visible, pb.nleaves);
	finish_leaves(&pb);
	if (l->fatal != CEP_OK || p->nsteps == 0) {
		return;
	}
	if ((rv = nfa_pattern_validate(p, l->diag)) == CEP_ENOMEM) {
		oom(l);
	} else if (rv != CEP_OK) {
		l->nerr++;
	}
}

/* ------------------------------------------------------------------ */
/* Stage 4: derived streams                                           */
/* ------------------------------------------------------------------ */

static void
stream_free(srv_stream *st)
{
	if (st == NULL) {
		return;
	}
	cep_strfree(st->name);
	cep_strfree(st->from);
	nfa_expr_destroy(st->where);
	cep_path_fini(&st->key);
	cep_path_fini(&st->time);
	for (size_t i = 0; i < st->naggs; i++) {
		cep_strfree(st->aggs[i].name);
		cep_strfree(st->aggs[i].field);
	}
	cep_free(st->aggs, st->naggs * sizeof(srv_agg));
	cep_free(st, sizeof(*st));
}

/* load_window reads {tumble: D}, {slide: D, every: E} or {session: D}. */
static void
load_window(yfile *yf, const ynode *v, cep_window *w)
{
	ynode  *keys[NELEM(window_keys)], *vals[NELEM(window_keys)];
	int     kinds = 0;
	int64_t d;

	if (v->type == Y_ALIAS) {
		return;
	}
	if (v->type != Y_MAP) {
		lerr(yf->l, v->loc,
		    "'window' must be a mapping: {tumble: D}, {slide: D, "
		    "every: E} or {session: D}");
		return;
	}
	collect(yf, v, CTX_WINDOW, window_keys, NELEM(window_keys), keys,
	    vals);
	for (int i = 0; i < 4; i++) {
		kinds += i != 2 && keys[i] != NULL;
	}
	if (kinds != 1) {
		lerr(yf->l, v->loc,
		    "'window' needs exactly one of tumble, slide, session");
		return;
	}
	if (vals[0] != NULL &&
	    want_duration(yf, vals[0], "tumble", false, &d) == 0) {
		w->kind = CEP_WINDOW_TUMBLE;
		w->size = d;
	}
	if (vals[3] != NULL &&
	    want_duration(yf, vals[3], "session", false, &d) == 0) {
		w->kind = CEP_WINDOW_SESSION;
		w->size = d;
	}
	if (vals[2] != NULL && vals[1] == NULL) {
		lerr(yf->l, keys[2]->loc, "'every' goes with 'slide'");
	}
	if (vals[1] != NULL) {
		w->kind = CEP_WINDOW_SLIDE;
		if (vals[2] == NULL) {
			lerr(yf->l, keys[1]->loc,
			    "a sliding window needs 'every' (how often a "
			    "window starts)");
			return;
		}
		if (want_duration(yf, vals[1], "slide", false, &w->size) != 0 ||
		    want_duration(yf, vals[2], "every", false, &w->every) != 0) {
			return;
		}
		if (w->every > w->size) {
			lerr(yf->l, vals[2]->loc,
			    "'every' must not exceed the window size");
		} else if (w->size / w->every > 10000) {
			lerr(yf->l, vals[2]->loc,
			    "a sliding window may overlap at most 10000 others "
			    "(size / every)");
		}
	}
}

static const struct {
	const char  *name;
	cep_agg_kind kind;
} agg_names[] = {
	{ "count", CEP_AGG_COUNT },
	{ "sum", CEP_AGG_SUM },
	{ "avg", CEP_AGG_AVG },
	{ "min", CEP_AGG_MIN },
	{ "max", CEP_AGG_MAX },
	{ "count_distinct", CEP_AGG_COUNT_DISTINCT },
};

/* load_agg parses `kind()` or `kind(field.path)`. */
static void
load_agg(yfile *yf, const ynode *k, const ynode *v, srv_agg *a)
{
	const char *s, *open, *close;
	size_t      i, flen;
	cep_path    probe = { 0 };

	a->loc = k->loc;
	if ((a->name = cep_strdup(k->s)) == NULL) {
		oom(yf->l);
		return;
	}
	if (!name_ok(k, false, "_")) {
		lerr(yf->l, k->loc,
		    "invalid aggregate name '%s': use a letter or '_', then "
		    "letters, digits or '_'",
		    k->s);
	}
	if (want_str(yf, v, k->s, "an aggregate such as count() or "
	                          "sum(field)") != 0) {
		return;
	}
	s     = v->s;
	open  = strchr(s, '(');
	close = strrchr(s, ')');
	for (i = 0; open != NULL && i < NELEM(agg_names); i++) {
		if ((size_t) (open - s) == strlen(agg_names[i].name) &&
		    strncmp(s, agg_names[i].name, (size_t) (open - s)) == 0) {
			break;
		}
	}
	if (open == NULL || close == NULL || close[1] != '\0' ||
	    i == NELEM(agg_names)) {
		lerr(yf->l, v->loc,
		    "'%s' is not an aggregate: use count(), sum(f), avg(f), "
		    "min(f), max(f) or count_distinct(f)",
		    s);
		return;
	}
	a->kind = agg_names[i].kind;
	flen    = (size_t) (close - open - 1);
	if (a->kind == CEP_AGG_COUNT) {
		if (flen != 0) {
			lerr(yf->l, v->loc, "count() takes no field");
		}
		return;
	}
	if (flen == 0 ||
	    cep_path_parse(&probe, open + 1, flen) != CEP_OK) {
		lerr(yf->l, v->loc, "%s() needs a field, as in %s(size)",
		    agg_names[i].name, agg_names[i].name);
		cep_path_fini(&probe);
		return;
	}
	cep_path_fini(&probe);
	if ((a->field = cep_strndup(open + 1, flen)) == NULL) {
		oom(yf->l);
	}
}

static void
load_aggs(yfile *yf, const ynode *v, srv_stream *st)
{
	size_t n = 0;

	if (v->type == Y_ALIAS) {
		return;
	}
	if (v->type != Y_MAP || v->n == 0) {
		lerr(yf->l, v->loc,
		    "'aggregate' must be a mapping of output names to "
		    "aggregates, such as {n: count()}");
		return;
	}
	if ((st->aggs = cep_calloc(v->n / 2, sizeof(srv_agg))) == NULL) {
		oom(yf->l);
		return;
	}
	st->naggs = v->n / 2;
	PAIRS(k, v)
	{
		if (!k->skip) {
			load_agg(yf, k, k->next, &st->aggs[n]);
		}
		n++;
	}
}

/* reserved_field tells whether an aggregate name clashes with a field the
 * window writes itself. */
static bool
reserved_field(const srv_stream *st, const char *name)
{
	return (strcmp(name, "window_start") == 0 ||
	        strcmp(name, "window_end") == 0 ||
	        (st->time.text != NULL && strcmp(name, st->time.text) == 0) ||
	        (st->key.text != NULL && strcmp(name, st->key.text) == 0));
}

static void
load_stream(yfile *yf, const ynode *item)
{
	loader     *l = yf->l;
	rules_impl *r = l->r;
	srv_stream *st;
	ynode      *keys[TK__N], *vals[TK__N];
	pbuild      pb;

	if (item->type != Y_MAP) {
		if (item->type != Y_ALIAS) {
			lerr(l, item->loc, "a stream must be a mapping");
		}
		return;
	}
	if (cep_grow(&r->pub.streams, &r->streams_cap, r->pub.nstreams + 1,
	        sizeof(srv_stream *)) != 0 ||
	    (st = cep_zalloc(sizeof(*st))) == NULL) {
		oom(l);
		return;
	}
	r->pub.streams[r->pub.nstreams++] = st;
	st->loc                           = item->loc;
	collect(yf, item, CTX_STREAM, stream_keys, TK__N, keys, vals);
	if (vals[TK_NAME] == NULL) {
		lerr(l, item->loc, "a stream needs a 'name'");
	} else if (want_str(yf, vals[TK_NAME], "name", "a string") == 0) {
		st->loc = vals[TK_NAME]->loc;
		if (!name_ok(vals[TK_NAME], true, "_.-") ||
		    strcmp(vals[TK_NAME]->s, "events") == 0) {
			lerr(l, vals[TK_NAME]->loc,
			    "invalid stream name '%s': use letters, digits, "
			    "'_', '.' and '-' (and not 'events')",
			    vals[TK_NAME]->s);
		}
		if ((st->name = cep_strdup(vals[TK_NAME]->s)) == NULL) {
			oom(l);
			return;
		}
	}
	st->from_loc = vals[TK_FROM] != NULL ? vals[TK_FROM]->loc : item->loc;
	if (vals[TK_FROM] != NULL &&
	    want_str(yf, vals[TK_FROM], "from", "a stream name") == 0) {
		st->from = cep_strdup(vals[TK_FROM]->s);
	} else {
		st->from = cep_strdup("events");
	}
	if (st->from == NULL) {
		oom(l);
		return;
	}
	if (vals[TK_KEY] != NULL) {
		(void) want_path(yf, vals[TK_KEY], "key", &st->key);
	}
	if (vals[TK_TIME] != NULL) {
		(void) want_path(yf, vals[TK_TIME], "time", &st->time);
	} else if (yf->defs.time != NULL) {
		(void) want_path(yf, yf->defs.time, "time", &st->time);
	}
	if (st->time.n == 0 && cep_path_parse(&st->time, "ts", 2) != CEP_OK) {
		oom(l);
		return;
	}
	if (vals[TK_MAX_DELAY] != NULL) {
		st->max_delay_set = true;
		(void) want_duration(yf, vals[TK_MAX_DELAY], "max_delay", true,
		    &st->max_delay);
	} else if (yf->defs.max_delay_set) {
		st->max_delay_set = true;
		st->max_delay     = yf->defs.max_delay;
	}
	if (vals[TK_WINDOW] == NULL) {
		lerr(l, item->loc, "stream '%s' needs a 'window'",
		    st->name != NULL ? st->name : "?");
	} else {
		load_window(yf, vals[TK_WINDOW], &st->window);
	}
	if (vals[TK_AGGREGATE] == NULL) {
		lerr(l, item->loc, "stream '%s' needs an 'aggregate'",
		    st->name != NULL ? st->name : "?");
	} else {
		load_aggs(yf, vals[TK_AGGREGATE], st);
	}
	for (size_t i = 0; i < st->naggs; i++) {
		if (st->aggs[i].name != NULL &&
		    reserved_field(st, st->aggs[i].name)) {
			lerr(l, st->aggs[i].loc,
			    "aggregate '%s' would overwrite a field the window "
			    "writes (the key, window_start, window_end, the "
			    "time)",
			    st->aggs[i].name);
		}
	}
	if (vals[TK_WHERE] != NULL && l->fatal == CEP_OK) {
		memset(&pb, 0, sizeof(pb));
		pb.yf     = yf;
		st->where = compile_expr(&pb, vals[TK_WHERE], "where", NULL,
		    st->name != NULL ? st->name : "stream");
	}
}

static void
load_streams(yfile *yf, const ynode *v)
{
	if (v->type == Y_ALIAS) {
		return;
	}
	if (v->type != Y_SEQ) {
		lerr(yf->l, v->loc, "'streams' must be a list of streams");
		return;
	}
	for (const ynode *item = v->first; item != NULL && yf->l->fatal ==
	                                                      CEP_OK;
	     item              = item->next) {
		load_stream(yf, item);
	}
}

static const srv_stream *
stream_named(const srv_rules *r, const char *name)
{
	for (size_t i = 0; i < r->nstreams; i++) {
		if (r->streams[i]->name != NULL &&
		    strcmp(r->streams[i]->name, name) == 0) {
			return (r->streams[i]);
		}
	}
	return (NULL);
}

/* check_from resolves every `from` once all files are read: stream names
 * are unique, each `from` is "events" or a stream, and no stream reads
 * itself through others. */
static void
check_from(loader *l)
{
	const srv_rules *r = &l->r->pub;

	for (size_t i = 0; i < r->nstreams; i++) {
		for (size_t j = 0; j < i; j++) {
			if (r->streams[i]->name != NULL &&
			    r->streams[j]->name != NULL &&
			    strcmp(r->streams[i]->name, r->streams[j]->name) ==
			        0) {
				lerr(l, r->streams[i]->loc,
				    "duplicate stream name '%s' (first "
				    "defined at %s:%u:%u)",
				    r->streams[i]->name,
				    r->streams[j]->loc.file,
				    r->streams[j]->loc.line,
				    r->streams[j]->loc.col);
			}
		}
	}
	for (size_t i = 0; i < r->npatterns; i++) {
		const nfa_pattern *p = r->patterns[i];
		if (p->from != NULL && strcmp(p->from, "events") != 0 &&
		    stream_named(r, p->from) == NULL) {
			lerr(l, p->locs.from, "unknown stream '%s'", p->from);
		}
	}
	for (size_t i = 0; i < r->nstreams; i++) {
		const srv_stream *st   = r->streams[i];
		const srv_stream *next = st;
		size_t            hops = 0;
		while (next != NULL && strcmp(next->from, "events") != 0 &&
		       hops <= r->nstreams) {
			next = stream_named(r, next->from);
			hops++;
		}
		if (next == NULL) {
			lerr(l, st->from_loc, "unknown stream '%s'", st->from);
		} else if (hops > r->nstreams) {
			lerr(l, st->from_loc,
			    "stream '%s' reads from itself through 'from'",
			    st->name);
		}
	}
}

/* load_top walks the top-level mapping of a file. */
static void
load_top(yfile *yf)
{
	loader      *l    = yf->l;
	const ynode *root = yf->root;
	ynode       *keys[NELEM(top_keys)], *vals[NELEM(top_keys)];

	if (root == NULL || is_null(root)) {
		lerr(l, mkloc(yf->file, 1, 1),
		    "a rule file needs 'patterns' (a list of patterns)");
		return;
	}
	if (root->type == Y_ALIAS) {
		return;
	}
	if (root->type != Y_MAP) {
		lerr(l, root->loc,
		    "a rule file must be a mapping with 'patterns'");
		return;
	}
	collect(yf, root, CTX_TOP, top_keys, NELEM(top_keys), keys, vals);
	if (vals[1] != NULL) {
		load_defaults(yf, vals[1]);
	}
	if (vals[2] != NULL) {
		load_streams(yf, vals[2]);
	}
	if (vals[0] == NULL) {
		lerr(l, root->loc,
		    "a rule file needs 'patterns' (a list of patterns)");
		return;
	}
	if (vals[0]->type != Y_SEQ) {
		if (vals[0]->type != Y_ALIAS) {
			lerr(l, vals[0]->loc,
			    "'patterns' must be a list of patterns");
		}
		return;
	}
	for (const ynode *item = vals[0]->first; item != NULL;
	     item              = item->next) {
		if (l->fatal != CEP_OK) {
			return;
		}
		load_pattern(yf, item);
	}
}

/* ------------------------------------------------------------------ */
/* Files and directories                                              */
/* ------------------------------------------------------------------ */

/* add_file keeps a copy of a file name in the rule set. */
static const char *
add_file(loader *l, const char *name)
{
	rules_impl *r = l->r;
	char       *copy;

	if (cep_grow(&r->pub.files, &r->files_cap, r->pub.nfiles + 1,
	        sizeof(char *)) != 0 ||
	    (copy = cep_strdup(name)) == NULL) {
		oom(l);
		return (NULL);
	}
	r->pub.files[r->pub.nfiles++] = copy;
	return (copy);
}

/* load_buf runs every stage over one file's text. */
static void
load_buf(loader *l, const char *file, const char *text, size_t len)
{
	yfile  yf;
	size_t skip;

	if (precheck(l, file, text, len, &skip) != 0) {
		return;
	}
	memset(&yf, 0, sizeof(yf));
	yf.l    = l;
	yf.file = file;
	yf.buf  = text + skip;
	yf.len  = len - skip;
	if (parse_tree(&yf) == 0) {
		check_keys(&yf, yf.root);
		if (l->fatal == CEP_OK) {
			load_top(&yf);
		}
	}
	arena_fini(&yf.a);
}

/* read_file reads at most SRV_RULES_MAX_BYTES + 1 bytes (one more than
 * allowed, so that precheck sees the file is too large). */
static int
read_file(loader *l, const char *path, char **out, size_t *len, size_t *cap)
{
	FILE  *f;
	char  *buf = NULL;
	size_t n = 0, bcap = 0, got;
	int    err;

	if ((f = fopen(path, "rb")) == NULL) {
		lerr(l, mkloc(path, 0, 0), "cannot read: %s", strerror(errno));
		l->io = true;
		return (-1);
	}
	for (;;) {
		if (n == bcap) {
			size_t ncap = bcap == 0 ? 65536 : bcap * 2;
			char  *nb;
			if (ncap > SRV_RULES_MAX_BYTES + 1) {
				ncap = SRV_RULES_MAX_BYTES + 1;
			}
			if (ncap == bcap) {
				break;
			}
			if ((nb = cep_realloc(buf, bcap, ncap)) == NULL) {
				cep_free(buf, bcap);
				fclose(f);
				oom(l);
				return (-1);
			}
			buf  = nb;
			bcap = ncap;
		}
		got = fread(buf + n, 1, bcap - n, f);
		n += got;
		if (got == 0) {
			break;
		}
	}
	err = ferror(f) ? errno : 0;
	fclose(f);
	if (err != 0) {
		cep_free(buf, bcap);
		lerr(l, mkloc(path, 0, 0), "cannot read: %s", strerror(err));
		l->io = true;
		return (-1);
	}
	*out = buf;
	*len = n;
	*cap = bcap;
	return (0);
}

static void
load_path(loader *l, const char *path)
{
	const char *file;
	char       *buf = NULL;
	size_t      len = 0, cap = 0;

	if ((file = add_file(l, path)) == NULL) {
		return;
	}
	if (read_file(l, file, &buf, &len, &cap) != 0) {
		return;
	}
	load_buf(l, file, buf != NULL ? buf : "", len);
	cep_free(buf, cap);
}

static bool
rule_file_name(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.') {
		return (false);
	}
	return ((n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* join_path: dir + "/" + name, in a new string of *size bytes. */
static char *
join_path(const char *dir, const char *name, size_t *size)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool   slash = dl > 0 && dir[dl - 1] == '/';
	char  *s;

	*size = dl + !slash + nl + 1;
	if ((s = cep_alloc(*size)) == NULL) {
		return (NULL);
	}
	memcpy(s, dir, dl);
	if (!slash) {
		s[dl++] = '/';
	}
	memcpy(s + dl, name, nl + 1);
	return (s);
}

/* load_dir loads the rule files directly inside a directory, in name
 * order. */
static void
load_dir(loader *l, const char *dir)
{
	DIR           *d;
	struct dirent *de;
	struct stat    st;
	char         **names = NULL, *full;
	size_t         n = 0, cap = 0, size;
	bool           toomany = false;

	if ((d = opendir(dir)) == NULL) {
		lerr(l, mkloc(dir, 0, 0), "cannot read: %s", strerror(errno));
		l->io = true;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!rule_file_name(de->d_name)) {
			continue;
		}
		if ((full = join_path(dir, de->d_name, &size)) == NULL) {
			oom(l);
			break;
		}
		// Directories named *.yaml are not rule files.
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			cep_free(full, size);
			continue;
		}
		cep_free(full, size);
		if (n == SRV_RULES_MAX_FILES) {
			toomany = true;
			break;
		}
		if (cep_grow(&names, &cap, n + 1, sizeof(char *)) != 0 ||
		    (names[n] = cep_strdup(de->d_name)) == NULL) {
			oom(l);
			break;
		}
		n++;
	}
	closedir(d);
	if (toomany) {
		lerr(l, mkloc(dir, 0, 0), "more than %u rule files",
		    SRV_RULES_MAX_FILES);
	} else if (l->fatal == CEP_OK) {
		if (n > 1) {
			qsort(names, n, sizeof(char *), cmp_str);
		}
		for (size_t i = 0; i < n && l->fatal == CEP_OK; i++) {
			if ((full = join_path(dir, names[i], &size)) == NULL) {
				oom(l);
				break;
			}
			load_path(l, full);
			cep_free(full, size);
		}
	}
	for (size_t i = 0; i < n; i++) {
		cep_strfree(names[i]);
	}
	cep_free(names, cap * sizeof(char *));
}

/* ------------------------------------------------------------------ */
/* The interface                                                      */
/* ------------------------------------------------------------------ */

void
srv_rules_destroy(srv_rules *pub)
{
	rules_impl *r = (rules_impl *) pub;

	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->pub.npatterns; i++) {
		nfa_pattern_destroy(r->pub.patterns[i]);
	}
	cep_free(r->pub.patterns, r->patterns_cap * sizeof(nfa_pattern *));
	for (size_t i = 0; i < r->pub.nstreams; i++) {
		stream_free(r->pub.streams[i]);
	}
	cep_free(r->pub.streams, r->streams_cap * sizeof(srv_stream *));
	for (size_t i = 0; i < r->pub.nfiles; i++) {
		cep_strfree(r->pub.files[i]);
	}
	cep_free(r->pub.files, r->files_cap * sizeof(char *));
	cep_free(r, sizeof(*r));
}

/* finish turns the loader's outcome into the result. */
static cep_err
finish(loader *l, srv_rules **out)
{
	cep_err rv = CEP_OK;

	if (l->fatal == CEP_OK) {
		check_names(l);
		check_from(l);
	}
	cep_free(l->names, l->names_cap * sizeof(pname));
	if (l->diag != NULL) {
		cep_diag_sort(l->diag);
	}
	if (l->fatal != CEP_OK) {
		rv = l->fatal;
	} else if (l->io) {
		rv = CEP_EIO;
	} else if (l->nerr > 0) {
		rv = CEP_EINVAL;
	}
	if (rv != CEP_OK) {
		srv_rules_destroy(&l->r->pub);
		return (rv);
	}
	*out = &l->r->pub;
	return (CEP_OK);
}

static cep_err
start(loader *l, cep_diag *diag)
{
	memset(l, 0, sizeof(*l));
	l->diag = diag;
	if ((l->r = cep_zalloc(sizeof(rules_impl))) == NULL) {
		return (CEP_ENOMEM);
	}
	return (CEP_OK);
}

cep_err
srv_rules_load_text(const char *name, const char *text, size_t len,
    srv_rules **out, cep_diag *diag)
{
	loader      l;
	const char *file;

	if (start(&l, diag) != CEP_OK) {
		return (CEP_ENOMEM);
	}
	if ((file = add_file(&l, name)) != NULL) {
		load_buf(&l, file, text, len);
	}
	return (finish(&l, out));
}

cep_err
srv_rules_load(const char *path, srv_rules **out, cep_diag *diag)
{
	loader      l;
	struct stat st;

	if (start(&l, diag) != CEP_OK) {
		return (CEP_ENOMEM);
	}
	if (stat(path, &st) != 0) {
		lerr(
		    &l, mkloc(path, 0, 0), "cannot read: %s", strerror(errno));
		l.io = true;
	} else if (S_ISDIR(st.st_mode)) {
		load_dir(&l, path);
	} else {
		load_path(&l, path);
	}
	return (finish(&l, out));
}
