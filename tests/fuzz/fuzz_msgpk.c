/* SPDX-License-Identifier: MIT */
/*
 * fuzz_msgpk.c: libFuzzer harness for the msgpack reader and writer.
 *
 * Each input is a stream, read object by object as a server would: skip
 * what the reader says after an error, stop at CEP_EAGAIN.  Whatever
 * parses must make a block that cep_event_verify accepts, write back to
 * msgpack that reads and writes again to the same bytes, and write to JSON
 * text that reads and writes again to the same text.
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

/* check_event writes ev both ways and reads each back. */
static void
check_event(const cep_event *ev)
{
	cep_event *again;
	cep_buf    a, b;
	size_t     used;

	cep_buf_init(&a);
	cep_buf_init(&b);
	CHECK(cep_msgpack_write_event(&a, ev) == CEP_OK);
	CHECK(cep_msgpack_parse(mr, a.data, a.len, &used, bld) == CEP_OK);
	CHECK(used == a.len);
	CHECK(cep_builder_finish(bld, NULL, &again) == CEP_OK);
	CHECK(cep_msgpack_write_event(&b, again) == CEP_OK);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	cep_event_unref(again, NULL);

	cep_buf_reset(&a);
	cep_buf_reset(&b);
	CHECK(cep_json_write_event(&a, ev) == CEP_OK);
	CHECK(cep_json_parse(jr, (const char *) a.data, a.len, bld) == CEP_OK);
	CHECK(cep_builder_finish(bld, NULL, &again) == CEP_OK);
	CHECK(cep_json_write_event(&b, again) == CEP_OK);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	cep_event_unref(again, NULL);
	cep_buf_fini(&a);
	cep_buf_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	if (mr == NULL) {
		jr  = cep_json_reader_create();
		mr  = cep_msgpack_reader_create();
		bld = cep_builder_create();
		CHECK(jr != NULL && mr != NULL && bld != NULL);
	}
	while (pos < size) {
		size_t     used = 0;
		cep_event *ev;
		cep_err    rv =
		    cep_msgpack_parse(mr, data + pos, size - pos, &used, bld);
		if (rv == CEP_EAGAIN) {
			CHECK(used == 0);
			break;
		}
		CHECK(used >= 1 && used <= size - pos);
		pos += used;
		if (rv != CEP_OK) {
			CHECK(rv == CEP_EPARSE || rv == CEP_ELIMIT);
			CHECK(cep_msgpack_reader_error(mr)[0] != '\0');
			continue;
		}
		CHECK(cep_builder_finish(bld, NULL, &ev) == CEP_OK);
		CHECK(cep_event_verify(ev, ev->size,
		          CEP_EVENT_DEFAULT_MAX_DEPTH, NULL, NULL) == CEP_OK);
		check_event(ev);
		cep_event_unref(ev, NULL);
	}
	return (0);
}
