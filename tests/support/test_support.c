/* SPDX-License-Identifier: MIT */
/* test_support.c: suite runner, file reading and a tiny event notation. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/test_support.h"

int
cep_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}

char *
cep_test_slurp(const char *path, size_t *len)
{
	FILE  *f = fopen(path, "rb");
	char  *buf;
	long   n;
	size_t got;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) n + 1);
	ck_assert_ptr_nonnull(buf);
	got = fread(buf, 1, (size_t) n, f);
	fclose(f);
	buf[got] = '\0';
	if (len != NULL) {
		*len = got;
	}
	return (buf);
}

/* A recursive-descent reader of the test notation, straight into a
 * builder.  Strings have no escapes; numbers with '.' or 'e' are doubles. */
struct tparse {
	const char  *p;
	cep_builder *b;
};

static void
skip_ws(struct tparse *t)
{
	while (isspace((unsigned char) *t->p)) {
		t->p++;
	}
}

static void tvalue(struct tparse *t);

static void
tstring(struct tparse *t, int key)
{
	const char *start;

	ck_assert_int_eq(*t->p, '"');
	start = ++t->p;
	while (*t->p != '"' && *t->p != '\0') {
		t->p++;
	}
	ck_assert_int_eq(*t->p, '"');
	if (key) {
		CEP_ASSERT_OK(cep_builder_key(t->b, start,
		    (size_t) (t->p - start)));
	} else {
		CEP_ASSERT_OK(cep_builder_str(t->b, start,
		    (size_t) (t->p - start)));
	}
	t->p++;
}

static void
tvalue(struct tparse *t)
{
	skip_ws(t);
	if (*t->p == '{' || *t->p == '[') {
		int map = *t->p == '{';
		CEP_ASSERT_OK(map ? cep_builder_map_begin(t->b)
		                  : cep_builder_array_begin(t->b));
		t->p++;
		skip_ws(t);
		while (*t->p != (map ? '}' : ']')) {
			if (map) {
				skip_ws(t);
				tstring(t, 1);
				skip_ws(t);
				ck_assert_int_eq(*t->p, ':');
				t->p++;
			}
			tvalue(t);
			skip_ws(t);
			if (*t->p == ',') {
				t->p++;
				skip_ws(t);
			}
		}
		t->p++;
		CEP_ASSERT_OK(cep_builder_end(t->b));
	} else if (*t->p == '"') {
		tstring(t, 0);
	} else if (strncmp(t->p, "true", 4) == 0) {
		CEP_ASSERT_OK(cep_builder_bool(t->b, 1));
		t->p += 4;
	} else if (strncmp(t->p, "false", 5) == 0) {
		CEP_ASSERT_OK(cep_builder_bool(t->b, 0));
		t->p += 5;
	} else if (strncmp(t->p, "null", 4) == 0) {
		CEP_ASSERT_OK(cep_builder_null(t->b));
		t->p += 4;
	} else {
		char       *end;
		const char *s = t->p;
		size_t      n = strspn(s, "+-0123456789.eE");
		ck_assert_uint_gt(n, 0);
		if (memchr(s, '.', n) || memchr(s, 'e', n) ||
		    memchr(s, 'E', n)) {
			CEP_ASSERT_OK(cep_builder_double(t->b, strtod(s, &end)));
		} else {
			CEP_ASSERT_OK(cep_builder_int(t->b,
			    strtoll(s, &end, 10)));
		}
		t->p = s + n;
	}
}

cep_event *
cep_test_event(const char *text)
{
	struct tparse t;
	cep_event    *ev;

	t.p = text;
	t.b = cep_builder_create();
	ck_assert_ptr_nonnull(t.b);
	tvalue(&t);
	CEP_ASSERT_OK(cep_builder_finish(t.b, NULL, &ev));
	cep_builder_destroy(t.b);
	return (ev);
}

uint64_t
cep_test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (x * 0x2545f4914f6cdd1dull);
}

size_t
cep_test_mutate(uint8_t *buf, size_t len, const char *alphabet,
    uint64_t *seed)
{
	int k = (int) (cep_test_rand(seed) % 4) + 1;

	while (k-- > 0 && len > 0) {
		uint64_t y   = cep_test_rand(seed);
		size_t   pos = (size_t) (y >> 8) % len;
		switch (y % 3) {
		case 0:
			buf[pos] = (uint8_t) (y >> 32);
			break;
		case 1:
			if (alphabet != NULL) {
				buf[pos] = (uint8_t)
				    alphabet[(y >> 32) % strlen(alphabet)];
			} else {
				buf[pos] ^= (uint8_t) (1u << (y >> 32) % 8);
			}
			break;
		default:
			len = pos + 1;
			break;
		}
	}
	return (len);
}

cep_val
cep_test_root_val(const cep_event *ev)
{
	cep_val v = { .type = CEP_T_MAP, .len = cep_event_root(ev)->n };

	v.u.c.ev  = ev;
	v.u.c.off = ev->root;
	return (v);
}

size_t
cep_test_diag_count(const cep_diag *d, const char *needle)
{
	char   line[2048];
	size_t n = 0;

	for (size_t i = 0; i < cep_diag_count(d, -1); i++) {
		cep_diag_format(cep_diag_get(d, i), line, sizeof(line));
		n += strstr(line, needle) != NULL;
	}
	return (n);
}

const char *
cep_test_diag_text(const cep_diag *d)
{
	static char text[16384];
	size_t      len = 0;

	text[0] = '\0';
	for (size_t i = 0; i < cep_diag_count(d, -1) && len < sizeof(text);
	     i++) {
		len += cep_diag_format(cep_diag_get(d, i), text + len,
		    sizeof(text) - len);
		if (len + 1 < sizeof(text)) {
			text[len++] = '\n';
			text[len]   = '\0';
		}
	}
	return (text);
}
