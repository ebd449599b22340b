/* SPDX-License-Identifier: MIT */
/* test_buf.c: the byte buffer and the bounds-checked reader. */
#include <math.h>
#include <string.h>

#include "tests/support/test_support.h"

START_TEST(integers_round_trip_little_endian)
{
	cep_buf b;
	cep_rd  r;

	cep_buf_init(&b);
	cep_buf_put_u8(&b, 0xfe);
	cep_buf_put_u16(&b, 0xbeef);
	cep_buf_put_u32(&b, 0xdeadbeef);
	cep_buf_put_u64(&b, 0x0123456789abcdefull);
	cep_buf_put_i64(&b, -42);
	cep_buf_put_f64(&b, -0.5);
	CEP_ASSERT_OK(cep_buf_status(&b));
	ck_assert_uint_eq(b.data[1], 0xef);
	cep_rd_init(&r, b.data, b.len);
	ck_assert_uint_eq(cep_rd_u8(&r), 0xfe);
	ck_assert_uint_eq(cep_rd_u16(&r), 0xbeef);
	ck_assert_uint_eq(cep_rd_u32(&r), 0xdeadbeef);
	ck_assert_uint_eq(cep_rd_u64(&r), 0x0123456789abcdefull);
	ck_assert_int_eq(cep_rd_i64(&r), -42);
	ck_assert(cep_rd_f64(&r) == -0.5);
	ck_assert_uint_eq(cep_rd_left(&r), 0);
	CEP_ASSERT_OK(cep_rd_status(&r));
	cep_buf_fini(&b);
}
END_TEST

START_TEST(varints_round_trip_at_every_width)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 16383, 16384,
		UINT32_MAX, (uint64_t) 1 << 56, UINT64_MAX };
	cep_buf b;
	cep_rd  r;

	cep_buf_init(&b);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		cep_buf_put_varint(&b, vals[i]);
	}
	cep_rd_init(&r, b.data, b.len);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		ck_assert_uint_eq(cep_rd_varint(&r), vals[i]);
	}
	CEP_ASSERT_OK(cep_rd_status(&r));
	cep_buf_fini(&b);
}
END_TEST

START_TEST(reading_past_the_end_fails_and_stays_failed)
{
	uint8_t two[2] = { 1, 2 };
	cep_rd  r;

	cep_rd_init(&r, two, sizeof(two));
	ck_assert_uint_eq(cep_rd_u32(&r), 0);
	CEP_ASSERT_ERR(cep_rd_status(&r), CEP_ECORRUPT);
	ck_assert_uint_eq(cep_rd_u8(&r), 0);
}
END_TEST

START_TEST(a_varint_longer_than_ten_bytes_is_corrupt)
{
	uint8_t bad[11];
	cep_rd  r;

	memset(bad, 0xff, sizeof(bad));
	cep_rd_init(&r, bad, sizeof(bad));
	cep_rd_varint(&r);
	CEP_ASSERT_ERR(cep_rd_status(&r), CEP_ECORRUPT);
}
END_TEST

START_TEST(a_blob_longer_than_the_input_is_corrupt)
{
	cep_buf     b;
	cep_rd      r;
	size_t      n;
	const void *p;

	cep_buf_init(&b);
	cep_buf_put_varint(&b, 1000);
	cep_buf_put(&b, "abc", 3);
	cep_rd_init(&r, b.data, b.len);
	p = cep_rd_blob(&r, &n);
	ck_assert_ptr_null(p);
	CEP_ASSERT_ERR(cep_rd_status(&r), CEP_ECORRUPT);
	cep_buf_fini(&b);
}
END_TEST

START_TEST(allocation_failure_is_sticky_until_reset)
{
	cep_buf b;

	cep_buf_init(&b);
	cep_alloc_fail_after(1, 1);
	cep_buf_put(&b, "hello", 5);
	cep_buf_printf(&b, "%d", 42);
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_ERR(cep_buf_status(&b), CEP_ENOMEM);
	cep_buf_put(&b, "x", 1);
	CEP_ASSERT_ERR(cep_buf_status(&b), CEP_ENOMEM);
	cep_buf_reset(&b);
	cep_buf_printf(&b, "%s-%d", "a", 7);
	CEP_ASSERT_OK(cep_buf_status(&b));
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.data, "a-7", 3), 0);
	cep_buf_fini(&b);
}
END_TEST

START_TEST(align_pads_with_zeros)
{
	cep_buf b;

	cep_buf_init(&b);
	cep_buf_put(&b, "abc", 3);
	cep_buf_align(&b, 8);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_uint_eq(b.data[7], 0);
	cep_buf_align(&b, 8);
	ck_assert_uint_eq(b.len, 8);
	cep_buf_fini(&b);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *t = tcase_create("buf");

	tcase_add_test(t, integers_round_trip_little_endian);
	tcase_add_test(t, varints_round_trip_at_every_width);
	tcase_add_test(t, reading_past_the_end_fails_and_stays_failed);
	tcase_add_test(t, a_varint_longer_than_ten_bytes_is_corrupt);
	tcase_add_test(t, a_blob_longer_than_the_input_is_corrupt);
	tcase_add_test(t, allocation_failure_is_sticky_until_reset);
	tcase_add_test(t, align_pads_with_zeros);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(buf_suite)
