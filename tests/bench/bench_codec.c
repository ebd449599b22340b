/* SPDX-License-Identifier: MIT */
/*
 * bench_codec.c: throughput of the JSON and msgpack codecs.
 *
 * Generates typical six-field events (ts, card_id, type, amount, country,
 * merchant) and prints lines per second for: YAJL alone with empty
 * callbacks (the floor), JSON parse + finish into a warm slab, msgpack
 * parse + finish, JSON write and msgpack write.  Usage: bench_codec [N]
 * (default 1000000 lines).  Not run by meson test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl_parse.h>

#include "cep/cep.h"

#define POOL 10000 /* distinct events kept for the write benchmarks */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static void
report(const char *what, size_t n, size_t bytes, double secs)
{
	printf("%-28s %10.0f lines/s %8.1f MB/s  (%zu lines, %.3f s)\n", what,
	    (double) n / secs, (double) bytes / secs / 1e6, n, secs);
}

_Noreturn static void
die(const char *what, cep_err rv)
{
	fprintf(stderr, "bench_codec: %s: %s\n", what, cep_strerror(rv));
	exit(1);
}

static int
yes(void *ctx)
{
	(void) ctx;
	return (1);
}

static int
yes_bool(void *ctx, int v)
{
	(void) ctx;
	(void) v;
	return (1);
}

static int
yes_text(void *ctx, const char *s, size_t n)
{
	(void) ctx;
	(void) s;
	(void) n;
	return (1);
}

static int
yes_str(void *ctx, const unsigned char *s, size_t n)
{
	(void) ctx;
	(void) s;
	(void) n;
	return (1);
}

static const yajl_callbacks empty_callbacks = {
	.yajl_null        = yes,
	.yajl_boolean     = yes_bool,
	.yajl_number      = yes_text,
	.yajl_string      = yes_str,
	.yajl_start_map   = yes,
	.yajl_map_key     = yes_str,
	.yajl_end_map     = yes,
	.yajl_start_array = yes,
	.yajl_end_array   = yes,
};

int
main(int argc, char **argv)
{
	static const char *types[]     = { "auth", "capture", "refund" };
	static const char *countries[] = { "US", "FR", "DE", "BR", "JP" };
	size_t             n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	cep_buf            text, mp, out;
	size_t            *off   = malloc((n + 1) * sizeof(size_t));
	cep_json_reader   *jr    = cep_json_reader_create();
	cep_msgpack_reader *mr   = cep_msgpack_reader_create();
	cep_builder        *b    = cep_builder_create();
	cep_slab           *slab = cep_slab_create();
	cep_event         **pool = calloc(POOL, sizeof(*pool));
	yajl_handle         yh;
	uint64_t            seed = 12345;
	size_t              pos, done;
	double              t0;
	cep_err             rv;

	if (n == 0 || off == NULL || jr == NULL || mr == NULL || b == NULL ||
	    slab == NULL || pool == NULL) {
		fprintf(stderr, "bench_codec: setup failed\n");
		return (1);
	}
	cep_buf_init(&text);
	cep_buf_init(&mp);
	cep_buf_init(&out);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		off[i] = text.len;
		cep_buf_printf(&text,
		    "{\"ts\":%llu,\"card_id\":\"c-%05u\",\"type\":\"%s\","
		    "\"amount\":%u.%02u,\"country\":\"%s\","
		    "\"merchant\":\"m-%u\"}",
		    1700000000000ull + i * 7, (unsigned) (seed >> 40) % 100000,
		    types[(seed >> 20) % 3], (unsigned) (seed >> 33) % 1000,
		    (unsigned) (seed >> 13) % 100, countries[(seed >> 8) % 5],
		    (unsigned) (seed >> 50) % 1000);
	}
	off[n] = text.len;
	if (cep_buf_status(&text) != CEP_OK) {
		die("generate", CEP_ENOMEM);
	}

	/* The floor: YAJL lexing and parsing with callbacks that do
	 * nothing, one reused handle. */
	yh = yajl_alloc(&empty_callbacks, NULL, NULL);
	yajl_config(yh, yajl_allow_multiple_values, 1);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		if (yajl_parse(yh, text.data + off[i], off[i + 1] - off[i]) !=
		        yajl_status_ok ||
		    yajl_complete_parse(yh) != yajl_status_ok) {
			die("yajl", CEP_EPARSE);
		}
	}
	report("yajl alone (empty callbacks)", n, text.len, now() - t0);
	yajl_free(yh);

	/* JSON parse + finish into a warm slab; msgpack made on the way is
	 * not timed (a second pass below does that). */
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		cep_event *ev;
		if ((rv = cep_json_parse(jr, (const char *) text.data + off[i],
		         off[i + 1] - off[i], b)) != CEP_OK ||
		    (rv = cep_builder_finish(b, slab, &ev)) != CEP_OK) {
			die(cep_json_reader_error(jr), rv);
		}
		cep_event_unref(ev, slab);
	}
	report("json parse + finish", n, text.len, now() - t0);

	for (size_t i = 0; i < n; i++) {
		cep_event *ev;
		if ((rv = cep_json_parse(jr, (const char *) text.data + off[i],
		         off[i + 1] - off[i], b)) != CEP_OK ||
		    (rv = cep_builder_finish(b, NULL, &ev)) != CEP_OK) {
			die("json", rv);
		}
		cep_msgpack_write_event(&mp, ev);
		if (i < POOL) {
			pool[i] = ev;
		} else {
			cep_event_unref(ev, NULL);
		}
	}
	if (cep_buf_status(&mp) != CEP_OK) {
		die("msgpack stream", CEP_ENOMEM);
	}

	t0   = now();
	pos  = 0;
	done = 0;
	while (pos < mp.len) {
		cep_event *ev;
		size_t     used;
		if ((rv = cep_msgpack_parse(mr, mp.data + pos, mp.len - pos,
		         &used, b)) != CEP_OK ||
		    (rv = cep_builder_finish(b, slab, &ev)) != CEP_OK) {
			die(cep_msgpack_reader_error(mr), rv);
		}
		cep_event_unref(ev, slab);
		pos += used;
		done++;
	}
	report("msgpack parse + finish", done, mp.len, now() - t0);

	{
		size_t pooled = n < POOL ? n : POOL, bytes = 0;
		t0 = now();
		for (size_t i = 0; i < n; i++) {
			cep_buf_reset(&out);
			cep_json_write_event(&out, pool[i % pooled]);
			bytes += out.len;
		}
		report("json write", n, bytes, now() - t0);
		bytes = 0;
		t0    = now();
		for (size_t i = 0; i < n; i++) {
			cep_buf_reset(&out);
			cep_msgpack_write_event(&out, pool[i % pooled]);
			bytes += out.len;
		}
		report("msgpack write", n, bytes, now() - t0);
		for (size_t i = 0; i < pooled; i++) {
			cep_event_unref(pool[i], NULL);
		}
	}

	free(pool);
	free(off);
	cep_buf_fini(&text);
	cep_buf_fini(&mp);
	cep_buf_fini(&out);
	cep_slab_destroy(slab);
	cep_builder_destroy(b);
	cep_json_reader_destroy(jr);
	cep_msgpack_reader_destroy(mr);
	return (0);
}
