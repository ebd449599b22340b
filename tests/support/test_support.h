/* SPDX-License-Identifier: MIT */
/*
 * test_support.h: helpers shared by the Check suites.
 *
 * Each tests/<module>/test_<file>.c defines one suite and ends with
 * CEP_TEST_MAIN(suite_fn).  Assertions on cep_err print the code's message.
 * Run one case with CK_RUN_CASE=name, without forking with CK_FORK=no.
 */
#ifndef CEP_TEST_SUPPORT_H
#define CEP_TEST_SUPPORT_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "cep/cep.h"

#define CEP_ASSERT_OK(expr)                                                  \
	do {                                                                 \
		cep_err rv_ = (expr);                                        \
		ck_assert_msg(rv_ == CEP_OK, "%s failed: %s (%s)", #expr,    \
		    cep_strerror(rv_), cep_errname(rv_));                    \
	} while (0)

#define CEP_ASSERT_ERR(expr, code)                                           \
	do {                                                                 \
		cep_err rv_ = (expr);                                        \
		ck_assert_msg(rv_ == (code), "%s: want %s, got %s (%s)",     \
		    #expr, cep_errname(code), cep_errname(rv_),              \
		    cep_strerror(rv_));                                      \
	} while (0)

/* Run a suite; returns the process exit status. */
int cep_test_run(Suite *s);

#define CEP_TEST_MAIN(suite_fn)                                              \
	int main(void)                                                       \
	{                                                                    \
		return (cep_test_run(suite_fn()));                           \
	}

/* Read a whole file into a NUL-terminated buffer (free with free()). */
char *cep_test_slurp(const char *path, size_t *len);

/* Build an event from JSON-like text without the JSON codec: the small
 * subset used by tests ({"a":1,"b":"x","c":1.5,"d":true,"e":null}, nested
 * objects and arrays).  Aborts the test on malformed text. */
cep_event *cep_test_event(const char *text);

/* A seeded pseudo-random generator for garbage tests (xorshift64*); the
 * state must start nonzero. */
uint64_t cep_test_rand(uint64_t *state);

/* Mutate buf[0..len) one to four times: overwrite a byte with a random
 * one, or with a character of `alphabet` (or, when it is NULL, flip one of
 * its bits), or cut the input short.  Returns the new length (at least 1
 * when len is). */
size_t cep_test_mutate(uint8_t *buf, size_t len, const char *alphabet,
    uint64_t *seed);

/* The root map of an event as a value, to compare with cep_val_equal. */
cep_val cep_test_root_val(const cep_event *ev);

/* Number of diagnostics in d whose formatted text contains `needle`. */
size_t cep_test_diag_count(const cep_diag *d, const char *needle);
/* All diagnostics of d formatted, one per line (static buffer). */
const char *cep_test_diag_text(const cep_diag *d);

#endif
