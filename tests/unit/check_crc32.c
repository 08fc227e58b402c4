/*
 * check_crc32.c - crc32_update() gives zlib's CRC-32 for every length,
 * alignment and starting value (the folded path against zlib's tables),
 * and the known answer of "123456789".
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crc32.h"
#include "testutil.h"

START_TEST(known_answer)
{
	ck_assert_uint_eq(crc32_update(0, "123456789", 9), 0xCBF43926u);
	ck_assert_uint_eq(crc32_update(0, "", 0), 0);
}
END_TEST

START_TEST(every_length_alignment_and_start)
{
	size_t cap = (1u << 20) + 64;
	unsigned char *buf = malloc(cap);
	unsigned seed = 7;

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < cap; i++)
		buf[i] = (unsigned char)(rand_r(&seed) >> 7);
	for (size_t len = 0; len < 600; len++)
		for (size_t off = 0; off < 17; off += 3) {
			uint32_t start = (uint32_t)len * 2654435761u;
			uint32_t want = (uint32_t)crc32(start, buf + off,
			    (uInt)len);

			ck_assert_msg(crc32_update(start, buf + off, len) == want,
			    "len %zu off %zu", len, off);
		}
	/* Long runs, and a CRC carried across pieces of odd sizes. */
	for (size_t len = (1u << 20) - 5; len <= (1u << 20) + 5; len++) {
		uint32_t want = (uint32_t)crc32(0, buf + 3, (uInt)len);
		uint32_t got = 0;

		ck_assert_uint_eq(crc32_update(0, buf + 3, len), want);
		for (size_t o = 0; o < len; o += 100003)
			got = crc32_update(got, buf + 3 + o,
			    len - o < 100003 ? len - o : 100003);
		ck_assert_uint_eq(got, want);
	}
	/* All zeros and all ones, where a folding error would show. */
	memset(buf, 0, cap);
	ck_assert_uint_eq(crc32_update(0, buf, 4096),
	    (uint32_t)crc32(0, buf, 4096));
	memset(buf, 0xff, cap);
	ck_assert_uint_eq(crc32_update(0xdeadbeef, buf, 4096 + 13),
	    (uint32_t)crc32(0xdeadbeef, buf, 4096 + 13));
	free(buf);
}
END_TEST

static Suite *
crc32_suite(void)
{
	Suite *s = suite_create("crc32");
	TCase *tc = tcase_create("zlib");

	tcase_add_test(tc, known_answer);
	tcase_add_test(tc, every_length_alignment_and_start);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(crc32_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
