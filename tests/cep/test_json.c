/* SPDX-License-Identifier: MIT */
/* test_json.c: the JSON reader and writer (cep/json.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/malloc_count.h"
#include "tests/support/test_support.h"

static cep_json_reader *rd;
static cep_builder     *bld;

static void
setup(void)
{
	rd  = cep_json_reader_create();
	bld = cep_builder_create();
	ck_assert_ptr_nonnull(rd);
	ck_assert_ptr_nonnull(bld);
}

static void
teardown(void)
{
	cep_json_reader_destroy(rd);
	cep_builder_destroy(bld);
}

/* parse_len parses text into a finished, verified event. */
static cep_event *
parse_len(const char *text, size_t len)
{
	cep_event *ev;
	cep_err    rv = cep_json_parse(rd, text, len, bld);

	ck_assert_msg(rv == CEP_OK, "parse of %.*s: %s: %s", (int) len, text,
	    cep_errname(rv), cep_json_reader_error(rd));
	CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
	CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
	return (ev);
}

static cep_event *
parse(const char *text)
{
	return (parse_len(text, strlen(text)));
}

/* good_line_parses shows that the reader still works after an error. */
static void
good_line_parses(void)
{
	cep_event *ev = parse("{\"ok\":[1,\"x\",{\"y\":null}]}");

	ck_assert_uint_eq(cep_event_root(ev)->n, 1);
	cep_event_unref(ev, NULL);
}

/* refuse_len expects an error whose message contains `needle` (when not
 * NULL), then a good line. */
static void
refuse_len(const char *text, size_t len, cep_err want, const char *needle)
{
	cep_err rv = cep_json_parse(rd, text, len, bld);

	ck_assert_msg(rv == want, "%.*s: want %s, got %s (%s)", (int) len,
	    text, cep_errname(want), cep_errname(rv),
	    cep_json_reader_error(rd));
	if (needle != NULL) {
		ck_assert_msg(
		    strstr(cep_json_reader_error(rd), needle) != NULL,
		    "%.*s: message \"%s\" lacks \"%s\"", (int) len, text,
		    cep_json_reader_error(rd), needle);
	}
	ck_assert_str_ne(cep_json_reader_error(rd), "");
	good_line_parses();
}

static void
refuse(const char *text, cep_err want, const char *needle)
{
	refuse_len(text, strlen(text), want, needle);
}

static void
get(const cep_event *ev, const char *name, cep_val *v)
{
	ck_assert_msg(
	    cep_map_get(ev, cep_event_root(ev), name, strlen(name), v),
	    "no field %s", name);
}

/* write_text writes an event as JSON into a static NUL-terminated copy. */
static const char *
write_text(const cep_event *ev)
{
	static char text[1 << 17];
	cep_buf     out;

	cep_buf_init(&out);
	CEP_ASSERT_OK(cep_json_write_event(&out, ev));
	ck_assert_uint_lt(out.len, sizeof(text));
	memcpy(text, out.data, out.len);
	text[out.len] = '\0';
	cep_buf_fini(&out);
	return (text);
}

/* ---- values ------------------------------------------------------------ */

START_TEST(json_parses_every_value_type)
{
	cep_event *ev = parse(" { \"n\" : null , \"t\":true,\"f\":false,"
	                      "\"i\":-42,\"d\":2.5,\"s\":\"hi\","
	                      "\"a\":[1,[],{}],\"m\":{\"x\":{\"y\":1}} } ");
	cep_val    v;

	get(ev, "n", &v);
	ck_assert_int_eq(v.type, CEP_T_NULL);
	get(ev, "t", &v);
	ck_assert(v.type == CEP_T_BOOL && v.u.b);
	get(ev, "f", &v);
	ck_assert(v.type == CEP_T_BOOL && !v.u.b);
	get(ev, "i", &v);
	ck_assert(v.type == CEP_T_INT && v.u.i == -42);
	get(ev, "d", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == 2.5);
	get(ev, "s", &v);
	ck_assert(v.type == CEP_T_STR && v.len == 2);
	ck_assert_str_eq(v.u.s, "hi");
	get(ev, "a", &v);
	ck_assert(v.type == CEP_T_ARRAY && v.len == 3);
	get(ev, "m", &v);
	ck_assert(v.type == CEP_T_MAP && v.len == 1);
	cep_event_unref(ev, NULL);
	ev = parse("{}");
	ck_assert_uint_eq(cep_event_root(ev)->n, 0);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(json_int64_limits_stay_exact)
{
	cep_event *ev = parse("{\"max\":9223372036854775807,"
	                      "\"min\":-9223372036854775808,"
	                      "\"over\":9223372036854775808,"
	                      "\"under\":-9223372036854775809,"
	                      "\"nines\":999999999999999999}");
	cep_val    v;

	get(ev, "max", &v);
	ck_assert(v.type == CEP_T_INT && v.u.i == INT64_MAX);
	get(ev, "min", &v);
	ck_assert(v.type == CEP_T_INT && v.u.i == INT64_MIN);
	get(ev, "over", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == 9223372036854775808.0);
	get(ev, "under", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == -9223372036854775808.0);
	get(ev, "nines", &v);
	ck_assert(v.type == CEP_T_INT && v.u.i == 999999999999999999);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(json_integer_beyond_64_bits_becomes_double)
{
	char       text[1024];
	cep_event *ev;
	cep_val    v;

	ev = parse("{\"a\":12345678901234567890}");
	get(ev, "a", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == 12345678901234567890.0);
	cep_event_unref(ev, NULL);
	/* 300 digits: 1 followed by 299 zeros is 1e299. */
	strcpy(text, "{\"a\":1");
	memset(text + 6, '0', 299);
	strcpy(text + 305, "}");
	ev = parse(text);
	get(ev, "a", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == 1e299);
	cep_event_unref(ev, NULL);
	/* 400 digits exceed the double range: an error, like 1e400. */
	strcpy(text, "{\"a\":-1");
	memset(text + 7, '7', 399);
	strcpy(text + 406, "}");
	refuse(text, CEP_ERANGE, "out of range");
}
END_TEST

START_TEST(json_negative_zero_integer_is_int_zero)
{
	cep_event *ev = parse("{\"i\":-0,\"d\":-0.0,\"e\":0e5}");
	cep_val    v;

	get(ev, "i", &v);
	ck_assert(v.type == CEP_T_INT && v.u.i == 0);
	get(ev, "d", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == 0.0 && signbit(v.u.d));
	get(ev, "e", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == 0.0 && !signbit(v.u.d));
	cep_event_unref(ev, NULL);
}
END_TEST

/* parsed_double parses {"v":text} and returns the double. */
static double
parsed_double(const char *num)
{
	char       text[512];
	cep_event *ev;
	cep_val    v;
	double     d;

	snprintf(text, sizeof(text), "{\"v\":%s}", num);
	ev = parse(text);
	get(ev, "v", &v);
	ck_assert_msg(v.type == CEP_T_DOUBLE, "%s is not a double", num);
	d = v.u.d;
	cep_event_unref(ev, NULL);
	return (d);
}

START_TEST(json_decimals_and_exponents_read_exactly)
{
	static const char *nums[] = { "1.5e3", "12.34", "0.1", "0.3", "1e22",
		"1e23", "-1E-5", "1.5E+3", "123456789012345.6",
		"1234567890123456.7", "0.30000000000000004",
		"2.2250738585072014e-308", "4.9e-324",
		"1.7976931348623157e308", "9007199254740993.0", "0.000001234",
		"1e-22", "3.14159e-23" };
	uint64_t           seed   = 42;
	char               num[64];

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		double d = parsed_double(nums[i]);
		ck_assert_msg(d == strtod(nums[i], NULL), "%s read as %.17g",
		    nums[i], d);
	}
	ck_assert(parsed_double("1e-400") == 0.0);
	/* Random decimals agree with strtod to the last bit. */
	for (int i = 0; i < 20000; i++) {
		uint64_t m    = cep_test_rand(&seed) % 10000000000000000ull;
		int      frac = (int) (cep_test_rand(&seed) % 20);
		int      e    = (int) (cep_test_rand(&seed) % 60) - 30;
		double   d, want;
		int      n =
		    snprintf(num, sizeof(num), "%llu", (unsigned long long) m);
		if (frac > 0 && frac < n) {
			memmove(num + n - frac + 1, num + n - frac,
			    (size_t) frac + 1);
			num[n - frac] = '.';
		}
		if (i % 2) {
			snprintf(num + strlen(num), 8, "e%d", e);
		} else if (strchr(num, '.') == NULL) {
			strcat(num, ".0");
		}
		d    = parsed_double(num);
		want = strtod(num, NULL);
		ck_assert_msg(memcmp(&d, &want, sizeof(d)) == 0,
		    "%s read as %.17g, strtod says %.17g", num, d, want);
	}
}
END_TEST

START_TEST(json_number_beyond_double_range_is_erange)
{
	refuse("{\"a\":1e400}", CEP_ERANGE, "column 6: number out of range");
	refuse("{\"a\":[-1e400]}", CEP_ERANGE, "out of range");
	refuse("{\"a\":1.8e308}", CEP_ERANGE, "out of range");
	refuse("{\"a\":{\"b\":123456789e301}}", CEP_ERANGE, "out of range");
}
END_TEST

/* ---- strings ----------------------------------------------------------- */

/* parsed_str parses {"v":"body"} and copies the string out. */
static size_t
parsed_str(const char *body, char *out, size_t cap)
{
	char       text[512];
	cep_event *ev;
	cep_val    v;

	snprintf(text, sizeof(text), "{\"v\":\"%s\"}", body);
	ev = parse(text);
	get(ev, "v", &v);
	ck_assert_int_eq(v.type, CEP_T_STR);
	ck_assert_uint_lt(v.len, cap);
	memcpy(out, v.u.s, v.len + 1);
	cep_event_unref(ev, NULL);
	return (v.len);
}

START_TEST(json_string_escapes_decode)
{
	char   s[64];
	size_t n;

	n = parsed_str("\\\"\\\\\\/\\b\\f\\n\\r\\t", s, sizeof(s));
	ck_assert_uint_eq(n, 8);
	ck_assert_str_eq(s, "\"\\/\b\f\n\r\t");
	ck_assert_uint_eq(parsed_str("caf\\u00e9", s, sizeof(s)), 5);
	ck_assert_str_eq(s, "caf\xc3\xa9");
	ck_assert_uint_eq(parsed_str("\\u20AC", s, sizeof(s)), 3);
	ck_assert_str_eq(s, "\xe2\x82\xac");
	ck_assert_uint_eq(parsed_str("\\ud83d\\ude00!", s, sizeof(s)), 5);
	ck_assert_str_eq(s, "\xf0\x9f\x98\x80!");
	ck_assert_uint_eq(parsed_str("\\uDBFF\\uDFFF", s, sizeof(s)), 4);
	ck_assert_str_eq(s, "\xf4\x8f\xbf\xbf");
	ck_assert_uint_eq(
	    parsed_str("a\\\\\\\"\\ud83d\\ude00", s, sizeof(s)), 7);
	ck_assert_str_eq(s, "a\\\"\xf0\x9f\x98\x80");
	/* Raw UTF-8 passes as it is. */
	ck_assert_uint_eq(
	    parsed_str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", s, sizeof(s)),
	    9);
}
END_TEST

START_TEST(json_nul_escape_is_kept_with_its_length)
{
	cep_event *ev = parse("{\"v\":\"a\\u0000b\",\"k\\u0000\":1}");
	cep_val    v;

	get(ev, "v", &v);
	ck_assert_uint_eq(v.len, 3);
	ck_assert_int_eq(memcmp(v.u.s, "a\0b", 4), 0);
	ck_assert(cep_map_get(ev, cep_event_root(ev), "k\0", 2, &v));
	ck_assert_int_eq(v.u.i, 1);
	ck_assert_str_eq(
	    write_text(ev), "{\"v\":\"a\\u0000b\",\"k\\u0000\":1}");
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(json_escaped_keys_decode)
{
	cep_event *ev = parse("{\"caf\\u00e9\":1,\"a\\\"b\":2}");
	cep_val    v;

	get(ev, "caf\xc3\xa9", &v);
	ck_assert_int_eq(v.u.i, 1);
	get(ev, "a\"b", &v);
	ck_assert_int_eq(v.u.i, 2);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(json_invalid_escapes_are_refused)
{
	refuse("{\"a\":\"\\x\"}", CEP_EPARSE, "column");
	refuse("{\"a\":\"\\u12\"}", CEP_EPARSE, NULL);
	refuse("{\"a\":\"\\u12G4\"}", CEP_EPARSE, NULL);
	refuse("{\"a\":\"\\\"}", CEP_EPARSE, NULL);
	refuse("{\"a\":\"\\ud800\"}", CEP_EPARSE, "column 6: invalid string");
	refuse("{\"a\":\"\\udc00\"}", CEP_EPARSE, "surrogate");
	refuse("{\"a\":\"x\\ud800\\u0041\"}", CEP_EPARSE, "surrogate");
	refuse("{\"a\":\"\\ud800\\ud800\"}", CEP_EPARSE, "surrogate");
	refuse("{\"a\":\"\\ud800x\\udc00\"}", CEP_EPARSE, "surrogate");
	refuse("{\"a\":\"\\\\\\ude00\"}", CEP_EPARSE, "surrogate");
	refuse("{\"a\\udfff\":1}", CEP_EPARSE, "column 2: invalid string");
	refuse("{\"a\":[\"ok\",\"\\\"\\ud83d\"]}", CEP_EPARSE, "column 12");
}
END_TEST

START_TEST(json_raw_control_characters_are_refused)
{
	refuse("{\"a\":\"x\ty\"}", CEP_EPARSE, NULL);
	refuse("{\"a\":\"x\ny\"}", CEP_EPARSE, NULL);
	refuse("{\"a\":\"\x01\"}", CEP_EPARSE, NULL);
	refuse("{\"a\x1f\":1}", CEP_EPARSE, NULL);
	refuse_len("{\"a\":\"\0\"}", 8, CEP_EPARSE, NULL);
}
END_TEST

START_TEST(json_invalid_utf8_is_refused)
{
	static const char *bad[] = {
		"\xff",             /* never valid */
		"\x80",             /* lone continuation */
		"\xc3",             /* truncated */
		"a\xe2\x82",        /* truncated */
		"\xc0\x80",         /* overlong NUL */
		"\xc1\xbf",         /* overlong */
		"\xe0\x80\x80",     /* overlong */
		"\xf0\x80\x80\x80", /* overlong */
		"\xed\xa0\x80",     /* encoded surrogate */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\xf5\x80\x80\x80", /* past U+10FFFF */
		"\xf8\x88\x80\x80\x80",
	};
	char text[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"a\":\"%s\"}", bad[i]);
		refuse(text, CEP_EPARSE, "column");
		snprintf(text, sizeof(text), "{\"%s\":1}", bad[i]);
		refuse(text, CEP_EPARSE, "column");
		snprintf(text, sizeof(text), "{\"a\":\"\\u00e9%s\"}", bad[i]);
		refuse(text, CEP_EPARSE, "column");
	}
	/* Outside strings. */
	refuse("{\"a\":1}\xff", CEP_EPARSE, "column 8");
	refuse("{\xc3\xa9:1}", CEP_EPARSE, NULL);
	refuse("\xef\xbb\xbf{}", CEP_EPARSE, NULL);
}
END_TEST

START_TEST(json_64k_string_round_trips)
{
	size_t     n    = 65536;
	char      *text = malloc(n + 16);
	cep_event *ev, *again;
	cep_val    v, w;

	memcpy(text, "{\"big\":\"", 8);
	for (size_t i = 0; i < n; i++) {
		text[8 + i] = (char) ('a' + i % 26);
	}
	memcpy(text + 8 + n, "\"}", 3);
	ev = parse(text);
	get(ev, "big", &v);
	ck_assert_uint_eq(v.len, n);
	ck_assert_int_eq(memcmp(v.u.s, text + 8, n), 0);
	again = parse(write_text(ev));
	get(again, "big", &w);
	ck_assert(cep_val_equal(&v, &w));
	free(text);
	cep_event_unref(ev, NULL);
	cep_event_unref(again, NULL);
}
END_TEST

/* ---- structure and limits ---------------------------------------------- */

/* nested makes {"a": followed by `depth` copies of open, then closes. */
static char *
nested(size_t depth, const char *open, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close);
	char  *t = malloc(8 + depth * (lo + lc));
	char  *p = t;

	memcpy(p, "{\"a\":", 5);
	p += 5;
	for (size_t i = 0; i < depth; i++, p += lo) {
		memcpy(p, open, lo);
	}
	*p++ = '1';
	for (size_t i = 0; i < depth; i++, p += lc) {
		memcpy(p, close, lc);
	}
	memcpy(p, "}", 2);
	return (t);
}

START_TEST(json_nesting_past_the_limit_is_elimit)
{
	char      *t;
	cep_event *ev;

	/* The root map and 63 arrays make 64 levels: the default limit. */
	t  = nested(63, "[", "]");
	ev = parse(t);
	cep_event_unref(ev, NULL);
	free(t);
	t = nested(64, "[", "]");
	refuse(t, CEP_ELIMIT, "column 69: nesting deeper than 64 levels");
	free(t);
	t = nested(100, "{\"b\":", "}");
	refuse(t, CEP_ELIMIT, "nesting deeper than 64");
	free(t);
	/* No recursion anywhere: a hundred thousand levels fail cleanly. */
	t = nested(100000, "[", "]");
	refuse(t, CEP_ELIMIT, "nesting");
	t[strlen(t) - 2] = '\0';
	refuse(t, CEP_ELIMIT, "nesting");
	refuse(t + 5, CEP_EPARSE, "not a JSON object");
	free(t);
	cep_builder_set_limits(bld, 3, 0);
	cep_event_unref(parse("{\"a\":{\"b\":{\"c\":1}}}"), NULL);
	refuse("{\"a\":{\"b\":{\"c\":[]}}}", CEP_ELIMIT, "deeper than 3");
}
END_TEST

START_TEST(json_event_past_the_size_limit_is_elimit)
{
	char text[2100];

	memcpy(text, "{\"a\":\"", 6);
	memset(text + 6, 'x', 2000);
	memcpy(text + 2006, "\"}", 3);
	cep_builder_set_limits(bld, 0, 1024);
	refuse(text, CEP_ELIMIT, "column 6: event larger than 1024 bytes");
}
END_TEST

START_TEST(json_duplicate_keys_keep_the_last)
{
	cep_event *ev = parse("{\"a\":1,\"b\":2,\"a\":{\"c\":3}}");
	cep_val    v;

	get(ev, "a", &v);
	ck_assert_int_eq(v.type, CEP_T_MAP);
	ck_assert_str_eq(write_text(ev), "{\"b\":2,\"a\":{\"c\":3}}");
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(json_top_level_must_be_an_object)
{
	refuse("[1]", CEP_EPARSE, "column 1: not a JSON object");
	refuse("[]", CEP_EPARSE, "not a JSON object");
	refuse("1", CEP_EPARSE, "column 1: not a JSON object");
	refuse(" -12.5 ", CEP_EPARSE, "column 2: not a JSON object");
	refuse("\"x\"", CEP_EPARSE, "column 1: not a JSON object");
	refuse(" \"x\\u00e9\"", CEP_EPARSE, "column 2: not a JSON object");
	refuse("null", CEP_EPARSE, "not a JSON object");
	refuse("true", CEP_EPARSE, "not a JSON object");
	refuse("false", CEP_EPARSE, "not a JSON object");
}
END_TEST

START_TEST(json_trailing_content_is_refused)
{
	refuse("{} {}", CEP_EPARSE, "column 4: trailing data");
	refuse("{}{\"a\":1}", CEP_EPARSE, "trailing data");
	refuse("{} 12", CEP_EPARSE, "column 4: trailing data");
	refuse("{}\"x\"", CEP_EPARSE, "column 3: trailing data");
	refuse("{} [1]", CEP_EPARSE, "trailing data");
	refuse("{} null", CEP_EPARSE, "trailing data");
	refuse("{}x", CEP_EPARSE, "column 3");
	refuse("{}}", CEP_EPARSE, NULL);
	refuse("{}]", CEP_EPARSE, NULL);
	refuse("{},", CEP_EPARSE, NULL);
	refuse("{\"a\":1}}", CEP_EPARSE, NULL);
	/* Tokens cut short by the end of the text. */
	refuse("{}\"e", CEP_EPARSE, "column 3: trailing data");
	refuse("{} \"\\u00", CEP_EPARSE, NULL);
	refuse("{} tr", CEP_EPARSE, NULL);
	refuse("{} -", CEP_EPARSE, NULL);
	/* Trailing blanks are fine. */
	cep_event_unref(parse("{}  \t\r"), NULL);
}
END_TEST

START_TEST(json_truncated_objects_are_refused)
{
	const char *full = "{\"a\":[1,2.5,\"x\\u00e9\",{\"b\":null}],"
	                   "\"c\":true,\"d\":-12e3}";
	size_t      n    = strlen(full);

	for (size_t len = 1; len < n; len++) {
		cep_err rv = cep_json_parse(rd, full, len, bld);
		ck_assert_msg(
		    rv == CEP_EPARSE, "prefix %zu: %s", len, cep_errname(rv));
		good_line_parses();
	}
	refuse("{\"a\":1", CEP_EPARSE, "column 7: parse error: premature EOF");
	refuse("{\"a\":\"abc", CEP_EPARSE, "premature EOF");
	cep_event_unref(parse_len(full, n), NULL);
}
END_TEST

START_TEST(json_empty_text_is_refused)
{
	refuse_len("", 0, CEP_EPARSE, "empty text");
	refuse_len(NULL, 0, CEP_EPARSE, "empty text");
	refuse("   ", CEP_EPARSE, "empty text");
	refuse("\t\r", CEP_EPARSE, "empty text");
	/* A warm reader says the same. */
	good_line_parses();
	refuse_len("", 0, CEP_EPARSE, "empty text");
}
END_TEST

START_TEST(json_syntax_errors_are_refused)
{
	refuse("{\"a\":tru}", CEP_EPARSE, "column");
	refuse("{\"a\" 1}", CEP_EPARSE, NULL);
	refuse("{\"a\":1,}", CEP_EPARSE, NULL);
	refuse("{a:1}", CEP_EPARSE, NULL);
	refuse("{'a':1}", CEP_EPARSE, NULL);
	refuse("{\"a\":01}", CEP_EPARSE, NULL);
	refuse("{\"a\":1.}", CEP_EPARSE, NULL);
	refuse("{\"a\":.5}", CEP_EPARSE, NULL);
	refuse("{\"a\":+1}", CEP_EPARSE, NULL);
	refuse("{\"a\":NaN}", CEP_EPARSE, NULL);
	refuse("{\"a\":[1,]}", CEP_EPARSE, NULL);
	refuse("{\"a\":1 /* c */}", CEP_EPARSE, NULL);
	refuse("{\"a\":[}", CEP_EPARSE, NULL);
}
END_TEST

START_TEST(json_binary_garbage_is_refused)
{
	static const unsigned char bin[] = { 0x83, 0xa1, 0x61, 0x01, 0x00,
		0xff, 0xfe, 0x7b, 0x22, 0x00, 0x22 };

	refuse_len((const char *) bin, sizeof(bin), CEP_EPARSE, "column 1");
	refuse_len((const char *) bin + 7, 4, CEP_EPARSE, NULL);
	refuse_len("\0\0\0", 3, CEP_EPARSE, NULL);
}
END_TEST

START_TEST(json_next_parse_resets_a_half_built_event)
{
	cep_event *ev;

	/* A failure midway leaves the builder half-built; the next parse
	 * resets it. */
	refuse("{\"a\":[1,2,{\"b\":", CEP_EPARSE, NULL);
	ck_assert_int_eq(cep_json_parse(rd, "{\"z\":1}", 7, bld), CEP_OK);
	CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
	ck_assert_uint_eq(cep_event_root(ev)->n, 1);
	ck_assert_str_eq(cep_json_reader_error(rd), "");
	cep_event_unref(ev, NULL);
}
END_TEST

/* ---- writer ------------------------------------------------------------ */

START_TEST(json_write_escapes_strings)
{
	cep_buf out;

	cep_buf_init(&out);
	CEP_ASSERT_OK(cep_json_write_str(
	    &out, "q\"b\\s/\x01\x1f\n\t\x7f\xc3\xa9\xf0\x9f\x98\x80", 17));
	cep_buf_put_u8(&out, 0);
	ck_assert_str_eq((const char *) out.data,
	    "\"q\\\"b\\\\s/\\u0001\\u001f\\u000a\\u0009\x7f\xc3\xa9"
	    "\xf0\x9f\x98\x80\"");
	/* Bytes that are not UTF-8 become U+FFFD: the output stays JSON. */
	cep_buf_reset(&out);
	CEP_ASSERT_OK(cep_json_write_str(&out, "a\xff\xc3(\xed\xa0\x80z", 8));
	cep_buf_put_u8(&out, 0);
	ck_assert_str_eq((const char *) out.data,
	    "\"a\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffdz\"");
	cep_buf_reset(&out);
	CEP_ASSERT_OK(cep_json_write_str(&out, "", 0));
	ck_assert_uint_eq(out.len, 2);
	cep_buf_fini(&out);
}
END_TEST

START_TEST(json_write_formats_numbers)
{
	static const struct {
		cep_val     v;
		const char *text;
	} cases[] = {
		{ { .type = CEP_T_DOUBLE, .u.d = 2.0 }, "2.0" },
		{ { .type = CEP_T_DOUBLE, .u.d = 0.1 }, "0.1" },
		{ { .type = CEP_T_DOUBLE, .u.d = -0.0 }, "-0.0" },
		{ { .type = CEP_T_DOUBLE, .u.d = 1e300 }, "1e+300" },
		{ { .type = CEP_T_DOUBLE, .u.d = 12.34 }, "12.34" },
		{ { .type = CEP_T_DOUBLE, .u.d = HUGE_VAL }, "null" },
		{ { .type = CEP_T_DOUBLE, .u.d = NAN }, "null" },
		{ { .type = CEP_T_INT, .u.i = 0 }, "0" },
		{ { .type = CEP_T_INT, .u.i = -7 }, "-7" },
		{ { .type = CEP_T_INT, .u.i = INT64_MAX },
		    "9223372036854775807" },
		{ { .type = CEP_T_INT, .u.i = INT64_MIN },
		    "-9223372036854775808" },
		{ { .type = CEP_T_BOOL, .u.b = 1 }, "true" },
		{ { .type = CEP_T_BOOL, .u.b = 0 }, "false" },
		{ { .type = CEP_T_NULL }, "null" },
	};
	cep_buf out;

	cep_buf_init(&out);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cep_buf_reset(&out);
		CEP_ASSERT_OK(cep_json_write_val(&out, &cases[i].v));
		cep_buf_put_u8(&out, 0);
		ck_assert_str_eq((const char *) out.data, cases[i].text);
	}
	cep_buf_fini(&out);
}
END_TEST

START_TEST(json_write_nested_event_exactly)
{
	const char *text =
	    "{\"a\":{\"b\":[1,2.5,\"x\",null,true,false,{},[]],"
	    "\"c\":[]},\"d\":0.1,\"e\":\"\\\"\\u000a\xc3\xa9\"}";
	cep_event *ev = parse(text);
	cep_val    v;
	cep_buf    out;

	ck_assert_str_eq(write_text(ev), text);
	get(ev, "a", &v);
	cep_buf_init(&out);
	CEP_ASSERT_OK(cep_json_write_val(&out, &v));
	cep_buf_put_u8(&out, 0);
	ck_assert_str_eq((const char *) out.data,
	    "{\"b\":[1,2.5,\"x\",null,true,false,{},[]],\"c\":[]}");
	cep_buf_fini(&out);
	cep_event_unref(ev, NULL);
	/* Blanks go, doubles get their '.0'. */
	ev = parse(" { \"x\" : [ 2.0 , 1E2 ] } ");
	ck_assert_str_eq(write_text(ev), "{\"x\":[2.0,100.0]}");
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(json_write_keeps_inline_field_names)
{
	char       name[CEP_SYM_MAX_LEN + 40];
	char       text[2 * sizeof(name) + 16];
	cep_event *ev;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":1,\"%s\":2}", name, name);
	ev = parse(text);
	ck_assert_uint_eq(
	    cep_cont_fields(cep_event_root(ev))[0].sym, CEP_SYM_NONE);
	snprintf(text, sizeof(text), "{\"%s\":2}", name);
	ck_assert_str_eq(write_text(ev), text);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(json_round_trips_every_type)
{
	static const char *lines[] = {
		("{\"n\":null,\"t\":true,\"f\":false,"
		 "\"i\":-9223372036854775808,\"j\":9223372036854775807,"
		 "\"d\":-1.5e-300,\"e\":1e300,\"z\":-0.0,"
		 "\"s\":\"\\u0000\\u001f\\\"\\\\\xc3\xa9\","
		 "\"a\":[[],[{}],[1,[2,[3]]]],\"m\":{\"m\":{\"m\":{}}}}"),
		("{\"ts\":1700000000123,\"card_id\":\"c-12345\","
		 "\"type\":\"auth\",\"amount\":12.34,\"country\":\"US\","
		 "\"merchant\":\"m-123\"}"),
		("{\"x\":0.1,\"y\":0.2,\"sum\":0.30000000000000004,"
		 "\"big\":1.7976931348623157e308,\"tiny\":5e-324}"),
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cep_event *ev = parse(lines[i]), *again;
		char      *first;
		cep_val    a, b;
		first = strdup(write_text(ev));
		again = parse(first);
		a     = cep_test_root_val(ev);
		b     = cep_test_root_val(again);
		ck_assert(cep_val_equal(&a, &b));
		ck_assert_str_eq(write_text(again), first);
		free(first);
		cep_event_unref(ev, NULL);
		cep_event_unref(again, NULL);
	}
}
END_TEST

START_TEST(json_write_reports_out_of_memory)
{
	cep_event *ev = parse("{\"a\":\"some text\"}");
	cep_buf    out;

	cep_buf_init(&out);
	cep_alloc_fail_after(1, 1);
	CEP_ASSERT_ERR(cep_json_write_event(&out, ev), CEP_ENOMEM);
	cep_alloc_fail_after(0, 0);
	cep_buf_fini(&out);
	cep_event_unref(ev, NULL);
}
END_TEST

/* ---- resources --------------------------------------------------------- */

START_TEST(json_reader_create_fails_cleanly_without_memory)
{
	cep_alloc_fail_after(1, 0);
	ck_assert_ptr_null(cep_json_reader_create());
	cep_alloc_fail_after(0, 0);
	cep_json_reader_destroy(NULL);
}
END_TEST

START_TEST(json_warm_reader_allocates_nothing_per_line)
{
	const char *line = "{\"ts\":1700000000123,\"card_id\":\"c-12345\","
	                   "\"type\":\"auth\",\"amount\":12.34,"
	                   "\"country\":\"US\",\"merchant\":\"m-123\","
	                   "\"tags\":[\"a\",{\"b\":\"caf\\u00e9\"}],"
	                   "\"n\":12345678901234567890123}";
	size_t      len  = strlen(line);
	cep_slab   *slab = cep_slab_create();
	cep_buf     out;
	uint64_t    before = 0, after;
	cep_err     worst  = CEP_OK;
	cep_event  *ev;

	cep_buf_init(&out);
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			/* Any cep_alloc from here on fails. */
			cep_alloc_fail_after(1, 1);
			before = cep_test_malloc_calls();
		}
		/* No Check assertion inside the loop: they allocate. */
		for (int i = 0; i < 1000; i++) {
			cep_err rv = cep_json_parse(rd, line, len, bld);
			if (rv == CEP_OK) {
				rv = cep_builder_finish(bld, slab, &ev);
			}
			if (rv != CEP_OK) {
				worst = rv;
				break;
			}
			cep_buf_reset(&out);
			if ((rv = cep_json_write_event(&out, ev)) != CEP_OK) {
				worst = rv;
			}
			cep_event_unref(ev, slab);
		}
	}
	after = cep_test_malloc_calls();
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_OK(worst);
	ck_assert_uint_eq(after - before, 0);
	if (!cep_test_malloc_counting()) {
		fprintf(stderr, "json: malloc calls not counted here\n");
	}
	cep_buf_fini(&out);
	cep_slab_destroy(slab);
}
END_TEST

/* ---- garbage ----------------------------------------------------------- */

/* try_garbage parses anything; a success must give a sound event that
 * writes and reads back to the same text. */
static void
try_garbage(const char *text, size_t len, cep_buf *out)
{
	cep_event *ev, *again;
	cep_err    rv = cep_json_parse(rd, text, len, bld);
	size_t     first;

	if (rv != CEP_OK) {
		ck_assert(
		    rv == CEP_EPARSE || rv == CEP_ELIMIT || rv == CEP_ERANGE);
		ck_assert_str_ne(cep_json_reader_error(rd), "");
		return;
	}
	CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
	CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
	cep_buf_reset(out);
	CEP_ASSERT_OK(cep_json_write_event(out, ev));
	first = out->len;
	ck_assert_msg(
	    cep_json_parse(rd, (const char *) out->data, first, bld) == CEP_OK,
	    "%.*s -> %.*s: %s", (int) len, text, (int) first, out->data,
	    cep_json_reader_error(rd));
	CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &again));
	CEP_ASSERT_OK(cep_json_write_event(out, again));
	ck_assert_uint_eq(out->len, 2 * first);
	ck_assert_int_eq(memcmp(out->data, out->data + first, first), 0);
	cep_event_unref(ev, NULL);
	cep_event_unref(again, NULL);
}

START_TEST(json_survives_random_garbage)
{
	static const char *seeds[] = {
		("{\"ts\":1700000000123,\"card_id\":\"c-12345\","
		 "\"amount\":12.34}"),
		("{\"a\":[1,-2.5e-3,\"x\\u00e9\\ud83d\\ude00\",{\"b\":null}],"
		 "\"c\":true,\"d\":false,\"\xc3\xa9\":\"\\\"\\\\\\n\"}"),
		("{\"a\":{\"b\":{\"c\":[[[[{}]]]]}},"
		 "\"e\":123456789012345678901}"),
	};
	static const char alphabet[] = "{}[]\":,.-+0123456789eEtrufalsn \\u"
	                               "aAdD\xc3\xa9\xff\x01";
	uint64_t          seed       = 0x9e3779b97f4a7c15ull;
	char              text[256];
	cep_buf           out;

	cep_buf_init(&out);
	for (int i = 0; i < 200000; i++) {
		uint64_t x   = cep_test_rand(&seed);
		size_t   len = (size_t) (x >> 8) % 96;
		switch (x % 4) {
		case 0: /* Random bytes. */
			for (size_t j = 0; j < len; j++) {
				text[j] = (char) cep_test_rand(&seed);
			}
			break;
		case 1: /* Random JSON-ish tokens. */
			text[0] = '{';
			for (size_t j = 1; j < len; j++) {
				text[j] = alphabet[cep_test_rand(&seed) %
				    (sizeof(alphabet) - 1)];
			}
			break;
		default: /* A valid line with a few mutations. */
			len = strlen(seeds[(x >> 4) % 3]);
			memcpy(text, seeds[(x >> 4) % 3], len);
			len = cep_test_mutate((uint8_t *) text, len, alphabet,
			    &seed);
			break;
		}
		try_garbage(text, len, &out);
	}
	cep_buf_fini(&out);
	good_line_parses();
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *t = tcase_create("json");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 240);
	tcase_add_test(t, json_parses_every_value_type);
	tcase_add_test(t, json_int64_limits_stay_exact);
	tcase_add_test(t, json_integer_beyond_64_bits_becomes_double);
	tcase_add_test(t, json_negative_zero_integer_is_int_zero);
	tcase_add_test(t, json_decimals_and_exponents_read_exactly);
	tcase_add_test(t, json_number_beyond_double_range_is_erange);
	tcase_add_test(t, json_string_escapes_decode);
	tcase_add_test(t, json_nul_escape_is_kept_with_its_length);
	tcase_add_test(t, json_escaped_keys_decode);
	tcase_add_test(t, json_invalid_escapes_are_refused);
	tcase_add_test(t, json_raw_control_characters_are_refused);
	tcase_add_test(t, json_invalid_utf8_is_refused);
	tcase_add_test(t, json_64k_string_round_trips);
	tcase_add_test(t, json_nesting_past_the_limit_is_elimit);
	tcase_add_test(t, json_event_past_the_size_limit_is_elimit);
	tcase_add_test(t, json_duplicate_keys_keep_the_last);
	tcase_add_test(t, json_top_level_must_be_an_object);
	tcase_add_test(t, json_trailing_content_is_refused);
	tcase_add_test(t, json_truncated_objects_are_refused);
	tcase_add_test(t, json_empty_text_is_refused);
	tcase_add_test(t, json_syntax_errors_are_refused);
	tcase_add_test(t, json_binary_garbage_is_refused);
	tcase_add_test(t, json_next_parse_resets_a_half_built_event);
	tcase_add_test(t, json_write_escapes_strings);
	tcase_add_test(t, json_write_formats_numbers);
	tcase_add_test(t, json_write_nested_event_exactly);
	tcase_add_test(t, json_write_keeps_inline_field_names);
	tcase_add_test(t, json_round_trips_every_type);
	tcase_add_test(t, json_write_reports_out_of_memory);
	tcase_add_test(t, json_reader_create_fails_cleanly_without_memory);
	tcase_add_test(t, json_warm_reader_allocates_nothing_per_line);
	tcase_add_test(t, json_survives_random_garbage);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(json_suite)
