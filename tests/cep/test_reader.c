/* SPDX-License-Identifier: MIT */
/* test_reader.c: framing JSON Lines and msgpack streams into events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/test_support.h"

/* reader_on opens a reader over bytes through an in-memory stream. */
static cep_reader *
reader_on(const void *data, size_t n, cep_format fmt, FILE **f)
{
	cep_reader *r;

	*f = fmemopen((void *) (uintptr_t) data, n, "rb");
	ck_assert_ptr_nonnull(*f);
	CEP_ASSERT_OK(cep_reader_open_stream(*f, "mem", fmt, &r));
	return (r);
}

static int64_t
ts_of(const cep_event *ev)
{
	cep_val v;

	cep_slot_val(ev, cep_event_find(ev, cep_sym_intern_str("ts")), &v);
	return (v.type == CEP_T_INT ? v.u.i : -1);
}

START_TEST(json_lines_give_events_with_their_line_numbers)
{
	static const char text[] = "{\"ts\":1}\r\n"
	                           "\n"
	                           "   \t\n"
	                           "{\"ts\":2}\n"
	                           "{bad\n"
	                           "{\"ts\":3}";
	FILE            *f;
	cep_reader      *r = reader_on(text, sizeof(text) - 1,
	         CEP_FORMAT_JSONL, &f);
	const cep_event *ev;
	uint64_t         pos;

	CEP_ASSERT_OK(cep_reader_next(r, &ev, &pos));
	ck_assert_int_eq(ts_of(ev), 1);
	ck_assert_uint_eq(pos, 1);
	CEP_ASSERT_OK(cep_reader_next(r, &ev, &pos));
	ck_assert_int_eq(ts_of(ev), 2);
	ck_assert_uint_eq(pos, 4);
	CEP_ASSERT_ERR(cep_reader_next(r, &ev, &pos), CEP_EPARSE);
	ck_assert_uint_eq(pos, 5);
	ck_assert_ptr_null(ev);
	ck_assert_str_ne(cep_reader_error(r), "");
	/* The last line has no newline. */
	CEP_ASSERT_OK(cep_reader_next(r, &ev, &pos));
	ck_assert_int_eq(ts_of(ev), 3);
	ck_assert_uint_eq(pos, 6);
	CEP_ASSERT_ERR(cep_reader_next(r, &ev, &pos), CEP_ECLOSED);
	ck_assert_str_eq(cep_reader_name(r), "mem");
	ck_assert_uint_eq(cep_reader_offset(r), sizeof(text) - 1);
	cep_reader_close(r);
	fclose(f);
}
END_TEST

START_TEST(an_overlong_line_is_refused_once_and_skipped)
{
	size_t           big  = CEP_EVENT_DEFAULT_MAX_BYTES + (2u << 20);
	char            *text = malloc(big + 64);
	size_t           n    = 0;
	FILE            *f;
	cep_reader      *r;
	const cep_event *ev;
	uint64_t         pos;

	text[n++] = '{';
	memset(text + n, ' ', big);
	n += big;
	n += (size_t) sprintf(text + n, "}\n{\"ts\":9}\n");
	r = reader_on(text, n, CEP_FORMAT_JSONL, &f);
	CEP_ASSERT_ERR(cep_reader_next(r, &ev, &pos), CEP_EPARSE);
	ck_assert_uint_eq(pos, 1);
	ck_assert_ptr_nonnull(strstr(cep_reader_error(r), "longer than"));
	CEP_ASSERT_OK(cep_reader_next(r, &ev, &pos));
	ck_assert_int_eq(ts_of(ev), 9);
	ck_assert_uint_eq(pos, 2);
	CEP_ASSERT_ERR(cep_reader_next(r, &ev, &pos), CEP_ECLOSED);
	cep_reader_close(r);
	fclose(f);
	free(text);
}
END_TEST

/* msgpack_stream writes n events {"ts": i, "pad": PAD} as msgpack. */
static void
msgpack_stream(cep_buf *b, int n, size_t pad)
{
	char *p = malloc(pad + 1);

	memset(p, 'p', pad);
	p[pad] = '\0';
	for (int i = 0; i < n; i++) {
		cep_builder *bld = cep_builder_create();
		cep_event   *ev;
		CEP_ASSERT_OK(cep_builder_map_begin(bld));
		CEP_ASSERT_OK(cep_builder_key(bld, "ts", 2));
		CEP_ASSERT_OK(cep_builder_int(bld, i));
		CEP_ASSERT_OK(cep_builder_key(bld, "pad", 3));
		CEP_ASSERT_OK(cep_builder_str(bld, p, pad));
		CEP_ASSERT_OK(cep_builder_end(bld));
		CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
		CEP_ASSERT_OK(cep_msgpack_write_event(b, ev));
		cep_event_unref(ev, NULL);
		cep_builder_destroy(bld);
	}
	free(p);
}

START_TEST(msgpack_objects_across_block_boundaries_are_whole)
{
	cep_buf          b;
	FILE            *f;
	cep_reader      *r;
	const cep_event *ev;
	uint64_t         pos;

	/* ~3 MiB of 10 KiB objects: several cut by the 1 MiB blocks. */
	cep_buf_init(&b);
	msgpack_stream(&b, 300, 10000);
	r = reader_on(b.data, b.len, CEP_FORMAT_MSGPACK, &f);
	for (int i = 0; i < 300; i++) {
		CEP_ASSERT_OK(cep_reader_next(r, &ev, &pos));
		ck_assert_int_eq(ts_of(ev), i);
		ck_assert_uint_eq(pos, (uint64_t) i + 1);
	}
	CEP_ASSERT_ERR(cep_reader_next(r, &ev, &pos), CEP_ECLOSED);
	cep_reader_close(r);
	fclose(f);
	cep_buf_fini(&b);
}
END_TEST

START_TEST(a_msgpack_object_cut_by_the_end_is_a_bad_record)
{
	cep_buf          b;
	FILE            *f;
	cep_reader      *r;
	const cep_event *ev;
	uint64_t         pos;

	cep_buf_init(&b);
	msgpack_stream(&b, 2, 10);
	b.len -= 3;
	r = reader_on(b.data, b.len, CEP_FORMAT_MSGPACK, &f);
	CEP_ASSERT_OK(cep_reader_next(r, &ev, &pos));
	CEP_ASSERT_ERR(cep_reader_next(r, &ev, &pos), CEP_EPARSE);
	ck_assert_uint_eq(pos, 2);
	ck_assert_ptr_nonnull(strstr(cep_reader_error(r), "truncated"));
	CEP_ASSERT_ERR(cep_reader_next(r, &ev, &pos), CEP_ECLOSED);
	cep_reader_close(r);
	fclose(f);
	cep_buf_fini(&b);
}
END_TEST

START_TEST(msgpack_garbage_is_skipped_and_reading_goes_on)
{
	cep_buf          b;
	FILE            *f;
	cep_reader      *r;
	const cep_event *ev;
	uint64_t         pos;
	int              good = 0, bad = 0;
	cep_err          rv;

	cep_buf_init(&b);
	msgpack_stream(&b, 1, 4);
	cep_buf_put(&b, "\xc1\xc1\x01\x93\x01\x02\x03", 7);
	msgpack_stream(&b, 1, 4);
	r = reader_on(b.data, b.len, CEP_FORMAT_MSGPACK, &f);
	while ((rv = cep_reader_next(r, &ev, &pos)) != CEP_ECLOSED) {
		ck_assert(rv == CEP_OK || rv == CEP_EPARSE);
		good += rv == CEP_OK;
		bad += rv == CEP_EPARSE;
	}
	ck_assert_int_eq(good, 2);
	ck_assert_int_gt(bad, 0);
	cep_reader_close(r);
	fclose(f);
	cep_buf_fini(&b);
}
END_TEST

START_TEST(formats_follow_the_file_name)
{
	ck_assert_int_eq(cep_format_of("a.msgpack"), CEP_FORMAT_MSGPACK);
	ck_assert_int_eq(cep_format_of("a.jsonl"), CEP_FORMAT_JSONL);
	ck_assert_int_eq(cep_format_of(NULL), CEP_FORMAT_JSONL);
	ck_assert_int_eq(cep_format_of("msgpack"), CEP_FORMAT_JSONL);
}
END_TEST

START_TEST(a_missing_file_is_an_io_error)
{
	cep_reader *r;

	CEP_ASSERT_ERR(cep_reader_open("/nonexistent/x.jsonl", CEP_FORMAT_JSONL,
	                   &r),
	    CEP_EIO);
}
END_TEST

static Suite *
reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *t = tcase_create("reader");

	tcase_add_test(t, json_lines_give_events_with_their_line_numbers);
	tcase_add_test(t, an_overlong_line_is_refused_once_and_skipped);
	tcase_add_test(t, msgpack_objects_across_block_boundaries_are_whole);
	tcase_add_test(t, a_msgpack_object_cut_by_the_end_is_a_bad_record);
	tcase_add_test(t, msgpack_garbage_is_skipped_and_reading_goes_on);
	tcase_add_test(t, formats_follow_the_file_name);
	tcase_add_test(t, a_missing_file_is_an_io_error);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(reader_suite)
