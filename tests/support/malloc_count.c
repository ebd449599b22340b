/* SPDX-License-Identifier: MIT */
/*
 * malloc_count.c: counting replacements of malloc, calloc and realloc.
 *
 * The executable's definitions take precedence over the C library's for
 * every shared library too; each forwards to glibc's __libc_* entry point.
 * free is left alone.  Built empty under AddressSanitizer.
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/support/malloc_count.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_MALLOC_COUNT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define NO_MALLOC_COUNT 1
#endif
#endif

#ifdef NO_MALLOC_COUNT

int
cep_test_malloc_counting(void)
{
	return (0);
}

uint64_t
cep_test_malloc_calls(void)
{
	return (0);
}

#else

#include <stdatomic.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static atomic_uint_fast64_t calls;

void *
malloc(size_t n)
{
	atomic_fetch_add(&calls, 1);
	return (__libc_malloc(n));
}

void *
calloc(size_t n, size_t size)
{
	atomic_fetch_add(&calls, 1);
	return (__libc_calloc(n, size));
}

void *
realloc(void *p, size_t n)
{
	atomic_fetch_add(&calls, 1);
	return (__libc_realloc(p, n));
}

int
cep_test_malloc_counting(void)
{
	return (1);
}

uint64_t
cep_test_malloc_calls(void)
{
	return (atomic_load(&calls));
}

#endif
