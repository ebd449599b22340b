/* SPDX-License-Identifier: MIT */
/*
 * malloc_count.h: count the C library allocations of a test process.
 *
 * Linking tests/support/malloc_count.c into a test executable replaces
 * malloc, calloc and realloc with versions that count their calls and
 * forward to glibc, so a test can show that a warm code path allocates
 * nothing, libraries included (yajl and msgpack-c call malloc directly,
 * not cep_alloc).  Under AddressSanitizer, which owns malloc, nothing is
 * replaced and cep_test_malloc_counting() returns 0.
 */
#ifndef CEP_TEST_MALLOC_COUNT_H
#define CEP_TEST_MALLOC_COUNT_H

#include <stdint.h>

/* Nonzero when allocations are being counted. */
int cep_test_malloc_counting(void);
/* malloc, calloc and realloc calls since the process started. */
uint64_t cep_test_malloc_calls(void);

#endif
