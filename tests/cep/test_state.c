/* SPDX-License-Identifier: MIT */
/*
 * test_state.c: the state interface and its in-memory store
 * (cep/state.c): entries per namespace in key order, replacement, binary
 * keys, iteration that stops on an error, and allocation failures that
 * leave the store as it was.
 */
#include <string.h>

#include "tests/support/test_support.h"

/* A visitor writing "key=value;" for each entry (keys and values are
 * printable in these tests; an empty key shows as "-"). */
struct seen {
	char   text[512];
	size_t n;
	size_t fail_at; /* return CEP_EIO at this entry (1-based), 0: never */
};

static cep_err
visit(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct seen *s   = arg;
	size_t       len = strlen(s->text);

	if (++s->n == s->fail_at) {
		return (CEP_EIO);
	}
	snprintf(s->text + len, sizeof(s->text) - len, "%.*s=%.*s;",
	    (int) (klen > 0 ? klen : 1), klen > 0 ? (const char *) key : "-",
	    (int) vlen, (const char *) val);
	return (CEP_OK);
}

static const char *
dump(cep_state_in *in, const char *ns)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	CEP_ASSERT_OK(cep_state_each(in, ns, visit, &s));
	return (s.text);
}

static void
put(cep_state_out *out, const char *ns, const char *key, const char *val)
{
	CEP_ASSERT_OK(
	    cep_state_put(out, ns, key, strlen(key), val, strlen(val)));
}

START_TEST(entries_come_back_per_namespace_in_key_order)
{
	cep_state_mem *m   = cep_state_mem_create();
	cep_state_out  out = cep_state_mem_out(m);
	cep_state_in   in  = cep_state_mem_in(m);

	ck_assert_ptr_nonnull(m);
	put(&out, "w/0", "b", "2");
	put(&out, "w/0", "ab", "3");
	put(&out, "w/1", "a", "other");
	put(&out, "w", "a", "parent");
	put(&out, "w/0", "", "wm");
	put(&out, "w/0", "a", "1");
	put(&out, "w/00", "a", "sibling");
	ck_assert_uint_eq(cep_state_mem_count(m), 7);
	ck_assert_str_eq(dump(&in, "w/0"), "-=wm;a=1;ab=3;b=2;");
	ck_assert_str_eq(dump(&in, "w/1"), "a=other;");
	ck_assert_str_eq(dump(&in, "w"), "a=parent;");
	ck_assert_str_eq(dump(&in, "w/00"), "a=sibling;");
	ck_assert_str_eq(dump(&in, "x"), "");
	ck_assert_str_eq(dump(&in, ""), "");
	cep_state_mem_destroy(m);
	cep_state_mem_destroy(NULL);
}
END_TEST

START_TEST(an_equal_key_replaces_the_value)
{
	cep_state_mem *m   = cep_state_mem_create();
	cep_state_out  out = cep_state_mem_out(m);
	cep_state_in   in  = cep_state_mem_in(m);

	put(&out, "n", "k", "first");
	put(&out, "n", "k", "second, longer");
	put(&out, "n", "k", "");
	put(&out, "n", "", "x");
	put(&out, "n", "", "y");
	ck_assert_uint_eq(cep_state_mem_count(m), 2);
	ck_assert_str_eq(dump(&in, "n"), "-=y;k=;");
	cep_state_mem_destroy(m);
}
END_TEST

/* bytes_visit checks binary keys arrive intact and in memcmp order. */
static cep_err
bytes_visit(
    void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	int *i = arg;

	ck_assert_uint_eq(klen, 3);
	ck_assert_uint_eq(vlen, 1);
	ck_assert_int_eq(((const uint8_t *) key)[1], *i);
	ck_assert_int_eq(((const uint8_t *) val)[0], *i);
	*i += 1;
	return (CEP_OK);
}

START_TEST(binary_keys_with_nul_bytes_sort_bytewise)
{
	cep_state_mem *m   = cep_state_mem_create();
	cep_state_out  out = cep_state_mem_out(m);
	cep_state_in   in  = cep_state_mem_in(m);
	int            i   = 0;

	for (int k = 255; k >= 0; k--) {
		uint8_t key[3] = { 0, (uint8_t) k, 0 };
		uint8_t val    = (uint8_t) k;
		CEP_ASSERT_OK(cep_state_put(&out, "b", key, 3, &val, 1));
	}
	CEP_ASSERT_OK(cep_state_each(&in, "b", bytes_visit, &i));
	ck_assert_int_eq(i, 256);
	cep_state_mem_destroy(m);
}
END_TEST

START_TEST(a_visitor_error_stops_the_iteration_with_it)
{
	cep_state_mem *m   = cep_state_mem_create();
	cep_state_out  out = cep_state_mem_out(m);
	cep_state_in   in  = cep_state_mem_in(m);
	struct seen    s;

	put(&out, "n", "a", "1");
	put(&out, "n", "b", "2");
	put(&out, "n", "c", "3");
	memset(&s, 0, sizeof(s));
	s.fail_at = 2;
	CEP_ASSERT_ERR(cep_state_each(&in, "n", visit, &s), CEP_EIO);
	ck_assert_str_eq(s.text, "a=1;");
	ck_assert_uint_eq(s.n, 2);
	cep_state_mem_destroy(m);
}
END_TEST

START_TEST(allocation_failures_leave_the_store_unchanged)
{
	cep_state_mem *m      = cep_state_mem_create();
	cep_state_out  out    = cep_state_mem_out(m);
	cep_state_in   in     = cep_state_mem_in(m);
	int            failed = 0;

	put(&out, "n", "a", "1");
	/* Fail each allocation of a new entry and of a replacement in turn
	 * until one goes through. */
	for (uint64_t nth = 1; nth < 20; nth++) {
		cep_err rv;
		cep_alloc_fail_after(nth, 0);
		rv = cep_state_put(&out, "n", "b", 1, "2", 1);
		cep_alloc_fail_after(0, 0);
		if (rv == CEP_OK) {
			break;
		}
		CEP_ASSERT_ERR(rv, CEP_ENOMEM);
		failed++;
		ck_assert_str_eq(dump(&in, "n"), "a=1;");
	}
	ck_assert_int_gt(failed, 0);
	ck_assert_str_eq(dump(&in, "n"), "a=1;b=2;");
	cep_alloc_fail_after(1, 0);
	CEP_ASSERT_ERR(cep_state_put(&out, "n", "a", 1, "9", 1), CEP_ENOMEM);
	cep_alloc_fail_after(0, 0);
	ck_assert_str_eq(dump(&in, "n"), "a=1;b=2;");
	ck_assert_uint_eq(cep_state_mem_count(m), 2);
	cep_state_mem_destroy(m);
}
END_TEST

/* visit_sorted checks that each key follows the one before (in arg). */
static cep_err
visit_sorted(
    void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	char *last = arg;

	ck_assert_uint_eq(klen, 8);
	ck_assert_uint_eq(vlen, 8);
	ck_assert_int_eq(memcmp(key, val, 8), 0);
	ck_assert_int_gt(strncmp(key, last, 8), 0);
	memcpy(last, key, 8);
	last[8] = '\0';
	return (CEP_OK);
}

START_TEST(many_entries_stay_sorted)
{
	cep_state_mem *m        = cep_state_mem_create();
	cep_state_out  out      = cep_state_mem_out(m);
	cep_state_in   in       = cep_state_mem_in(m);
	uint64_t       seed     = 3;
	char           last[16] = "";

	for (int i = 0; i < 5000; i++) {
		uint64_t k = cep_test_rand(&seed) % 3000;
		char     key[16];
		snprintf(key, sizeof(key), "%08llu", (unsigned long long) k);
		put(&out, i % 2 ? "odd" : "even", key, key);
	}
	ck_assert_uint_gt(cep_state_mem_count(m), 3000);
	ck_assert_uint_le(cep_state_mem_count(m), 5000);
	CEP_ASSERT_OK(cep_state_each(&in, "odd", visit_sorted, last));
	ck_assert_str_ne(last, "");
	last[0] = '\0';
	CEP_ASSERT_OK(cep_state_each(&in, "even", visit_sorted, last));
	cep_state_mem_destroy(m);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *t = tcase_create("state");

	tcase_add_test(t, entries_come_back_per_namespace_in_key_order);
	tcase_add_test(t, an_equal_key_replaces_the_value);
	tcase_add_test(t, binary_keys_with_nul_bytes_sort_bytewise);
	tcase_add_test(t, a_visitor_error_stops_the_iteration_with_it);
	tcase_add_test(t, allocation_failures_leave_the_store_unchanged);
	tcase_add_test(t, many_entries_stay_sorted);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(state_suite)
