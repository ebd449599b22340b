/* SPDX-License-Identifier: MIT */
/*
 * fuzz_json.c: libFuzzer harness for the JSON reader and writer.
 *
 * Each input is one line.  Whatever parses must make a block that
 * cep_event_verify accepts and write back to JSON text that parses and
 * writes again to the same text; its msgpack form must read back to the
 * same JSON text too (both readers share the builder's limits).  Errors
 * must be one of the documented codes with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cep/cep.h"

#define CHECK(cond)              \
	do {                     \
		if (!(cond)) {   \
			abort(); \
		}                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cep_json_reader    *jr;
static cep_msgpack_reader *mr;
static cep_builder        *bld;

/* reparse parses JSON text that the writer made; it must succeed. */
static cep_event *
reparse(const cep_buf *text)
{
	cep_event *ev;

	CHECK(cep_json_parse(jr, (const char *) text->data, text->len, bld) ==
	    CEP_OK);
	CHECK(cep_builder_finish(bld, NULL, &ev) == CEP_OK);
	return (ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cep_event *ev, *again, *from_mp;
	cep_buf    first, second, mp;
	size_t     used;
	cep_err    rv;

	if (jr == NULL) {
		jr  = cep_json_reader_create();
		mr  = cep_msgpack_reader_create();
		bld = cep_builder_create();
		CHECK(jr != NULL && mr != NULL && bld != NULL);
	}
	rv = cep_json_parse(jr, (const char *) data, size, bld);
	if (rv != CEP_OK) {
		CHECK(
		    rv == CEP_EPARSE || rv == CEP_ELIMIT || rv == CEP_ERANGE);
		CHECK(cep_json_reader_error(jr)[0] != '\0');
		return (0);
	}
	CHECK(cep_builder_finish(bld, NULL, &ev) == CEP_OK);
	CHECK(cep_event_verify(ev, ev->size, CEP_EVENT_DEFAULT_MAX_DEPTH, NULL,
	          NULL) == CEP_OK);
	cep_buf_init(&first);
	cep_buf_init(&second);
	cep_buf_init(&mp);
	CHECK(cep_json_write_event(&first, ev) == CEP_OK);
	again = reparse(&first);
	CHECK(cep_json_write_event(&second, again) == CEP_OK);
	CHECK(first.len == second.len &&
	    memcmp(first.data, second.data, first.len) == 0);
	CHECK(cep_msgpack_write_event(&mp, ev) == CEP_OK);
	CHECK(cep_msgpack_parse(mr, mp.data, mp.len, &used, bld) == CEP_OK);
	CHECK(used == mp.len);
	CHECK(cep_builder_finish(bld, NULL, &from_mp) == CEP_OK);
	cep_buf_reset(&second);
	CHECK(cep_json_write_event(&second, from_mp) == CEP_OK);
	CHECK(first.len == second.len &&
	    memcmp(first.data, second.data, first.len) == 0);
	cep_event_unref(from_mp, NULL);
	cep_event_unref(ev, NULL);
	cep_event_unref(again, NULL);
	cep_buf_fini(&first);
	cep_buf_fini(&second);
	cep_buf_fini(&mp);
	return (0);
}
