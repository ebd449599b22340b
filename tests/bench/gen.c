/* SPDX-License-Identifier: MIT */
/*
 * gen.c: seeded workload generators for the benchmarks.
 *
 *	gen WORKLOAD [-n EVENTS] [-s SEED] [-o FILE]
 *
 * Writes EVENTS events in time order as JSON Lines, or as a stream of
 * msgpack maps when FILE ends in .msgpack (as `cep run` reads them), to
 * FILE or standard output.  The same workload, count and seed give the
 * same bytes: everything comes from one splitmix64 stream and integer
 * arithmetic (no floating point but the msgpack encoding of amounts).
 * A summary (events per type, incidents injected) goes to standard error.
 *
 * Workloads, for the rules of patterns/ and tests/bench/abc.yaml:
 *
 *  fraud    100,000 cards (one account each) over 7 days, default 10^7
 *           events: authorisations (card present or online), captures
 *           of earlier auths, refunds, logins, password resets, payouts.
 *           Cards are picked with a skewed weight (density -ln x: the
 *           busiest ~10x the mean), travel now and then, and a sprinkling
 *           of incidents is injected for each fraud rule: card testing,
 *           impossible travel, account takeover (one of each per 200,000
 *           events).
 *  network  10,000 clients opening connections (SYN, ACK a round trip
 *           later, a few HTTP requests), default 5 * 10^6 events over
 *           about ten minutes; per 10^6 events one SYN flood (2,000 SYN/s
 *           for 3 s), one port scan (1,000 ports in 20 s) and one HTTP
 *           flood (250 requests/s for 12 s), from attacker addresses.
 *  abc      the classic keyed sequence: default 10^6 events of types
 *           A..J, uniformly over 1,000 integer keys, 1 ms apart.
 *
 * Built with the tests; not a test (tests/bench/run.sh uses it).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cep/cep.h"

#define T0_MS INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */
#define OUT_BUF (1u << 20)

/* ---- randomness ---------------------------------------------------------- */

static uint64_t rng_state;

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

/* below: uniform in [0, n) (n > 0; the bias of a 64-bit modulo is
 * negligible here). */
static uint64_t
below(uint64_t n)
{
	return (rnd() % n);
}

/* between: uniform in [lo, hi]. */
static int64_t
between(int64_t lo, int64_t hi)
{
	return (lo + (int64_t) below((uint64_t) (hi - lo + 1)));
}

/* chance: true with probability per_million / 10^6. */
static int
chance(uint32_t per_million)
{
	return (below(1000000) < per_million);
}

/* skewed: an index in [0, n) with density -ln(x) (the product of two
 * uniforms), scattered over the range by an odd multiplier so that the
 * busy indices are not neighbours.  mult must be coprime with n. */
static uint32_t
skewed(uint32_t n, uint32_t mult)
{
	uint64_t a = below(1u << 16), b = below(1u << 16);
	uint64_t i = (a * b * n) >> 32;

	return ((uint32_t) ((i * mult) % n));
}

/* ---- output: JSON Lines or msgpack --------------------------------------- */

struct out {
	FILE    *f;
	int      msgpack;
	char    *buf;
	size_t   len;
	int      first; /* no field written yet in this event (JSON) */
	uint64_t events;
};

static void
out_flush(struct out *o)
{
	if (o->len > 0 && fwrite(o->buf, 1, o->len, o->f) != o->len) {
		fprintf(stderr, "gen: write: %s\n", strerror(errno));
		exit(1);
	}
	o->len = 0;
}

static void
put(struct out *o, const void *p, size_t n)
{
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void
put_u8(struct out *o, uint8_t c)
{
	o->buf[o->len++] = (char) c;
}

static void
put_be(struct out *o, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		put_u8(o, (uint8_t) (v >> (8 * i)));
	}
}

static void
put_dec(struct out *o, uint64_t v)
{
	char  tmp[24];
	char *p = tmp + sizeof(tmp);

	do {
		*--p = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, p, (size_t) (tmp + sizeof(tmp) - p));
}

/* mp_str writes a msgpack string header and the bytes. */
static void
mp_str(struct out *o, const char *s, size_t n)
{
	if (n < 32) {
		put_u8(o, (uint8_t) (0xa0 | n));
	} else {
		put_u8(o, 0xd9);
		put_u8(o, (uint8_t) n);
	}
	put(o, s, n);
}

static void
mp_uint(struct out *o, uint64_t v)
{
	if (v < 128) {
		put_u8(o, (uint8_t) v);
	} else if (v <= UINT8_MAX) {
		put_u8(o, 0xcc);
		put_be(o, v, 1);
	} else if (v <= UINT16_MAX) {
		put_u8(o, 0xcd);
		put_be(o, v, 2);
	} else if (v <= UINT32_MAX) {
		put_u8(o, 0xce);
		put_be(o, v, 4);
	} else {
		put_u8(o, 0xcf);
		put_be(o, v, 8);
	}
}

/* ev_begin starts an event of nfields fields (at most 15, short ASCII
 * names and values: nothing needs escaping). */
static void
ev_begin(struct out *o, unsigned nfields)
{
	if (o->len > OUT_BUF - 4096) {
		out_flush(o);
	}
	if (o->msgpack) {
		put_u8(o, (uint8_t) (0x80 | nfields));
	} else {
		put_u8(o, '{');
	}
	o->first = 1;
}

static void
ev_end(struct out *o)
{
	if (!o->msgpack) {
		put(o, "}\n", 2);
	}
	o->events++;
}

static void
key(struct out *o, const char *name)
{
	size_t n = strlen(name);

	if (o->msgpack) {
		mp_str(o, name, n);
		return;
	}
	if (!o->first) {
		put_u8(o, ',');
	}
	o->first = 0;
	put_u8(o, '"');
	put(o, name, n);
	put(o, "\":", 2);
}

static void
f_str(struct out *o, const char *name, const char *s, size_t n)
{
	key(o, name);
	if (o->msgpack) {
		mp_str(o, s, n);
	} else {
		put_u8(o, '"');
		put(o, s, n);
		put_u8(o, '"');
	}
}

static void
f_cstr(struct out *o, const char *name, const char *s)
{
	f_str(o, name, s, strlen(s));
}

static void
f_uint(struct out *o, const char *name, uint64_t v)
{
	key(o, name);
	if (o->msgpack) {
		mp_uint(o, v);
	} else {
		put_dec(o, v);
	}
}

static void
f_bool(struct out *o, const char *name, int v)
{
	key(o, name);
	if (o->msgpack) {
		put_u8(o, v ? 0xc3 : 0xc2);
	} else if (v) {
		put(o, "true", 4);
	} else {
		put(o, "false", 5);
	}
}

/* f_money writes cents as a decimal number: 12.30 in JSON, the double
 * 12.3 in msgpack (both read as the same double). */
static void
f_money(struct out *o, const char *name, uint64_t cents)
{
	key(o, name);
	if (o->msgpack) {
		double   d = (double) cents / 100.0;
		uint64_t bits;
		memcpy(&bits, &d, sizeof(bits));
		put_u8(o, 0xcb);
		put_be(o, bits, 8);
		return;
	}
	put_dec(o, cents / 100);
	put_u8(o, '.');
	put_u8(o, (uint8_t) ('0' + cents / 10 % 10));
	put_u8(o, (uint8_t) ('0' + cents % 10));
}

/* f_id writes "<prefix>-<n zero-padded to width>". */
static void
f_id(struct out *o, const char *name, const char *prefix, uint64_t n,
    int width)
{
	char s[40];
	int  len = snprintf(s, sizeof(s), "%s-%0*" PRIu64, prefix, width, n);

	f_str(o, name, s, (size_t) len);
}

static void
f_ip(struct out *o, const char *name, uint32_t ip)
{
	char s[16];
	int  len = snprintf(s, sizeof(s), "%u.%u.%u.%u", ip >> 24,
	     (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);

	f_str(o, name, s, (size_t) len);
}

/* ---- scheduled events ---------------------------------------------------- */

/* An event waiting for its time: the generators schedule follow-ups
 * (handshake ACKs, requests, the steps of an incident) on a heap ordered
 * by time, then by scheduling order. */
struct gev {
	int64_t  t; /* microseconds since the start */
	uint64_t seq;
	uint8_t  type;
	uint8_t  flag;    /* new_device, channel, ... */
	uint16_t country; /* index in countries[] */
	uint32_t who;     /* card or client index, attacker address */
	uint32_t a, b, c; /* per type: amount, merchant, device, ports, ... */
};

static int
gev_less(const void *x, const void *y)
{
	const struct gev *a = x, *b = y;

	return (a->t != b->t ? a->t < b->t : a->seq < b->seq);
}

static uint64_t sched_seq;

static void
schedule(cep_heap *h, struct gev *e)
{
	e->seq = sched_seq++;
	if (cep_heap_push(h, e) != CEP_OK) {
		fprintf(stderr, "gen: out of memory\n");
		exit(1);
	}
}

/* ---- fraud --------------------------------------------------------------- */

enum {
	F_AUTH,
	F_CAPTURE,
	F_REFUND,
	F_LOGIN,
	F_RESET,
	F_PAYOUT,
	F_NTYPES
};

static const char *const fraud_types[F_NTYPES] = { "auth", "capture",
	"refund", "login", "password_reset", "payout" };

struct country {
	const char *code;
	const char *currency;
	uint32_t    weight; /* of home countries */
};

static const struct country countries[] = {
	{ "FR", "EUR", 20 }, { "DE", "EUR", 20 }, { "GB", "GBP", 15 },
	{ "ES", "EUR", 10 }, { "IT", "EUR", 10 }, { "NL", "EUR", 6 },
	{ "BE", "EUR", 4 }, { "PL", "PLN", 5 }, { "US", "USD", 6 },
	{ "BR", "BRL", 2 }, { "JP", "JPY", 1 }, { "TH", "THB", 1 },
};
#define NCOUNTRIES (sizeof(countries) / sizeof(countries[0]))

#define NCARDS 100000u
#define CARD_MULT 7919u /* coprime with NCARDS */
#define NMERCHANTS 20000u
#define FRAUD_SPAN_US (INT64_C(7) * 86400 * 1000000)
#define INCIDENT_EVERY 200000u /* events, per fraud rule */

#define CH_POS 1 /* gev.flag of card events */

struct card {
	uint16_t home;
	uint16_t here;        /* where the card is now (travel) */
	uint32_t pending;     /* amount of an auth not captured yet, cents */
	uint32_t pending_mch; /* its merchant */
	uint8_t  pending_ch;
	uint8_t  captured;    /* anything to refund */
	uint32_t devices;     /* devices known on the account */
	int64_t  last_pos;    /* time of the last card-present auth */
};

struct fraud {
	struct card *cards;
	uint64_t     count[F_NTYPES];
	uint64_t     incidents[3];
};

static uint16_t
pick_home(void)
{
	uint32_t total = 0, r;

	for (size_t i = 0; i < NCOUNTRIES; i++) {
		total += countries[i].weight;
	}
	r = (uint32_t) below(total);
	for (size_t i = 0; i < NCOUNTRIES; i++) {
		if (r < countries[i].weight) {
			return ((uint16_t) i);
		}
		r -= countries[i].weight;
	}
	return (0);
}

/* pick_amount: a shopping amount in cents (1% tiny verifications,
 * mostly everyday sums, a few large ones). */
static uint32_t
pick_amount(void)
{
	uint64_t r = below(1000);

	if (r < 10) {
		return ((uint32_t) between(10, 199));
	} else if (r < 620) {
		return ((uint32_t) between(200, 5000));
	} else if (r < 920) {
		return ((uint32_t) between(5000, 20000));
	} else if (r < 995) {
		return ((uint32_t) between(20000, 100000));
	}
	return ((uint32_t) between(100000, 500000));
}

static void
write_fraud(struct out *o, const struct gev *e, uint64_t id)
{
	static const char *const vias[] = { "email", "sms" };
	const struct country    *c = &countries[e->country];

	switch (e->type) {
	case F_AUTH:
	case F_CAPTURE:
	case F_REFUND:
		ev_begin(o, 11);
		f_uint(o, "id", id);
		f_uint(o, "ts", (uint64_t) (T0_MS + e->t / 1000));
		f_cstr(o, "type", fraud_types[e->type]);
		f_id(o, "card_id", "c", e->who, 6);
		f_id(o, "account_id", "a", e->who, 6);
		f_money(o, "amount", e->a);
		f_cstr(o, "currency", c->currency);
		f_id(o, "merchant", "m", e->b, 5);
		f_cstr(o, "country", c->code);
		f_cstr(o, "channel", e->flag & CH_POS ? "pos" : "ecom");
		f_bool(o, "approved", 1);
		break;
	case F_LOGIN:
		ev_begin(o, 8);
		f_uint(o, "id", id);
		f_uint(o, "ts", (uint64_t) (T0_MS + e->t / 1000));
		f_cstr(o, "type", "login");
		f_id(o, "account_id", "a", e->who, 6);
		f_id(o, "device_id", "d", (uint64_t) e->who * 100 + e->a, 8);
		f_bool(o, "new_device", e->flag);
		f_ip(o, "ip", e->b);
		f_cstr(o, "country", c->code);
		break;
	case F_RESET:
		ev_begin(o, 5);
		f_uint(o, "id", id);
		f_uint(o, "ts", (uint64_t) (T0_MS + e->t / 1000));
		f_cstr(o, "type", "password_reset");
		f_id(o, "account_id", "a", e->who, 6);
		f_cstr(o, "via", vias[e->a % 2]);
		break;
	default:
		ev_begin(o, 7);
		f_uint(o, "id", id);
		f_uint(o, "ts", (uint64_t) (T0_MS + e->t / 1000));
		f_cstr(o, "type", "payout");
		f_id(o, "account_id", "a", e->who, 6);
		f_money(o, "amount", e->a);
		f_cstr(o, "currency", c->currency);
		f_id(o, "beneficiary", "b", e->b, 6);
		break;
	}
	ev_end(o);
}

/* card_event fills e with a card event of the card's current life. */
static void
card_event(struct card *cd, uint32_t who, int64_t t, struct gev *e)
{
	uint64_t r;

	memset(e, 0, sizeof(*e));
	e->t       = t;
	e->who     = who;
	e->country = cd->here;
	if (cd->pending != 0 && below(100) < 80) {
		e->type    = F_CAPTURE;
		e->a       = cd->pending;
		e->b       = cd->pending_mch;
		e->flag    = cd->pending_ch;
		cd->pending  = 0;
		cd->captured = 1;
		return;
	}
	/* Travel: only long after the last card-present auth, so that a
	 * trip takes the hours it does. */
	if (chance(2000) && t - cd->last_pos > INT64_C(3) * 3600 * 1000000) {
		cd->here = cd->here != cd->home ? cd->home
		                                : (uint16_t) below(NCOUNTRIES);
		e->country = cd->here;
	}
	r = below(1000);
	if (r < 560) {
		e->type = F_AUTH;
		e->a    = pick_amount();
		e->b    = (uint32_t) below(NMERCHANTS);
		e->flag = below(100) < 60 ? CH_POS : 0;
		if (!(e->flag & CH_POS) && below(100) < 30) {
			e->country = (uint16_t) below(NCOUNTRIES);
		}
		if (e->flag & CH_POS) {
			cd->last_pos = t;
		}
		cd->pending     = e->a;
		cd->pending_mch = e->b;
		cd->pending_ch  = e->flag;
	} else if (r < 600 && cd->captured) {
		e->type = F_REFUND;
		e->a    = (uint32_t) between(100, 5000);
		e->b    = (uint32_t) below(NMERCHANTS);
		e->flag = below(2) ? CH_POS : 0;
	} else if (r < 940) {
		e->type = F_LOGIN;
		e->flag = chance(20000); /* 2% from a new device */
		e->a    = e->flag ? (uint32_t) between(50, 99)
		                  : (uint32_t) below(cd->devices);
		e->b    = (uint32_t) (0x50000000u + who * 7u);
	} else if (r < 943) {
		e->type = F_RESET;
		e->a    = (uint32_t) below(2);
	} else {
		e->type = F_PAYOUT;
		e->a    = (uint32_t) between(2000, 80000);
		e->b    = who;
	}
}

static void
inject_card_testing(cep_heap *h, struct fraud *fr, int64_t t)
{
	uint32_t    who = (uint32_t) below(NCARDS);
	uint32_t    n   = (uint32_t) between(3, 8);
	struct gev  e;

	memset(&e, 0, sizeof(e));
	e.who     = who;
	e.type    = F_AUTH;
	e.country = (uint16_t) below(NCOUNTRIES);
	for (uint32_t i = 0; i < n; i++) {
		t += between(5, 40) * 1000000;
		e.t = t;
		e.a = (uint32_t) between(10, 199);
		e.b = NMERCHANTS - 1 - (uint32_t) below(50);
		schedule(h, &e);
	}
	e.t = t + between(30, 180) * 1000000;
	e.a = (uint32_t) between(50000, 300000);
	e.b = (uint32_t) below(NMERCHANTS);
	schedule(h, &e);
	fr->incidents[0]++;
}

static void
inject_travel(cep_heap *h, struct fraud *fr, int64_t t)
{
	uint32_t    who = (uint32_t) below(NCARDS);
	struct card *cd = &fr->cards[who];
	struct gev  e;

	memset(&e, 0, sizeof(e));
	e.who     = who;
	e.type    = F_AUTH;
	e.flag    = CH_POS;
	e.country = cd->here;
	e.t       = t + between(1, 60) * 1000000;
	e.a       = pick_amount();
	e.b       = (uint32_t) below(NMERCHANTS);
	schedule(h, &e);
	/* The clone, far away, minutes later. */
	e.country = (uint16_t) ((cd->here + 1 + below(NCOUNTRIES - 1)) %
	                        NCOUNTRIES);
	e.t += between(5, 50) * 60 * 1000000;
	e.a = (uint32_t) between(20000, 200000);
	e.b = (uint32_t) below(NMERCHANTS);
	schedule(h, &e);
	fr->incidents[1]++;
}

static void
inject_takeover(cep_heap *h, struct fraud *fr, int64_t t)
{
	uint32_t    who = (uint32_t) below(NCARDS);
	struct gev  e;

	memset(&e, 0, sizeof(e));
	e.who     = who;
	e.country = fr->cards[who].home;
	e.type    = F_RESET;
	e.t       = t + between(1, 60) * 1000000;
	e.a       = 0;
	schedule(h, &e);
	e.type = F_LOGIN;
	e.flag = 1;
	e.t += between(60, 600) * 1000000;
	e.a = (uint32_t) between(50, 99);
	e.b = 0xb9dc6500u + (uint32_t) below(256); /* 185.220.101.x */
	schedule(h, &e);
	e.type = F_PAYOUT;
	e.flag = 0;
	e.t += between(120, 900) * 1000000;
	e.a = (uint32_t) between(100000, 900000);
	e.b = 900000 + (uint32_t) below(1000);
	schedule(h, &e);
	fr->incidents[2]++;
}

static void
gen_fraud(struct out *o, uint64_t n)
{
	struct fraud fr;
	cep_heap     h;
	struct gev   e;
	int64_t      t = 0, step = FRAUD_SPAN_US / (int64_t) n;
	uint64_t     next_at = 0;
	int          next_kind = 0;

	memset(&fr, 0, sizeof(fr));
	if ((fr.cards = calloc(NCARDS, sizeof(struct card))) == NULL) {
		fprintf(stderr, "gen: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < NCARDS; i++) {
		fr.cards[i].home     = pick_home();
		fr.cards[i].here     = fr.cards[i].home;
		fr.cards[i].devices  = (uint32_t) between(1, 3);
		fr.cards[i].last_pos = INT64_MIN / 2;
	}
	cep_heap_init(&h, sizeof(struct gev), gev_less);
	while (o->events < n) {
		const struct gev *top = cep_heap_top(&h);
		if (top != NULL && top->t <= t) {
			cep_heap_pop(&h, &e);
			if (e.type == F_AUTH && (e.flag & CH_POS)) {
				fr.cards[e.who].last_pos = e.t;
			}
		} else {
			uint32_t who = skewed(NCARDS, CARD_MULT);
			card_event(&fr.cards[who], who, t, &e);
			/* Incidents start among the first 99% of events, so
			 * that they complete, each rule's a third of the
			 * period after the previous rule's. */
			if (o->events < n - n / 100 && o->events >= next_at) {
				switch (next_kind) {
				case 0:
					inject_card_testing(&h, &fr, t);
					break;
				case 1:
					inject_travel(&h, &fr, t);
					break;
				default:
					inject_takeover(&h, &fr, t);
					break;
				}
				next_kind = (next_kind + 1) % 3;
				next_at += INCIDENT_EVERY / 3;
			}
			t += between(0, 2 * step);
		}
		fr.count[e.type]++;
		write_fraud(o, &e, o->events + 1);
	}
	cep_heap_fini(&h);
	free(fr.cards);
	for (int i = 0; i < F_NTYPES; i++) {
		fprintf(stderr, "%s %" PRIu64 "%s", fraud_types[i], fr.count[i],
		    i + 1 < F_NTYPES ? ", " : "\n");
	}
	fprintf(stderr,
	    "incidents: card-testing %" PRIu64 ", impossible-travel %" PRIu64
	    ", account-takeover %" PRIu64 "\n",
	    fr.incidents[0], fr.incidents[1], fr.incidents[2]);
}

/* ---- network ------------------------------------------------------------- */

enum { N_SYN, N_ACK, N_HTTP, N_NTYPES };

static const char *const net_types[N_NTYPES] = { "syn", "ack", "http" };

#define NCLIENTS 10000u
#define CLIENT_MULT 7717u /* coprime with NCLIENTS */
#define NSERVERS 64u
#define SESSION_GAP_US 1000 /* mean time between session starts: 1,000/s */
#define ATTACK_EVERY 1000000u

struct net {
	uint64_t count[N_NTYPES];
	uint64_t attacks[3];
	uint32_t attacker; /* next attacker address */
};

static uint32_t
client_ip(uint32_t i)
{
	return (0x0a000000u + 0x100u + i); /* 10.0.1.0 and on */
}

static uint32_t
server_ip(uint32_t i)
{
	return (0xc0000200u + 10 + i); /* 192.0.2.10 and on */
}

static void
write_net(struct out *o, const struct gev *e, uint64_t id)
{
	static const char *const paths[] = { "/", "/search", "/api/v1/items",
		"/login", "/static/app.js", "/img/logo.png", "/cart" };
	static const uint32_t statuses[] = { 200, 200, 200, 200, 200, 200,
		200, 304, 304, 404, 500, 302 };

	ev_begin(o, e->type == N_HTTP ? 11 : 8);
	f_uint(o, "id", id);
	f_uint(o, "ts", (uint64_t) (T0_MS + e->t / 1000));
	f_cstr(o, "type", net_types[e->type]);
	f_ip(o, "src_ip", e->who);
	f_uint(o, "src_port", e->a);
	f_ip(o, "dst_ip", server_ip(e->b));
	f_uint(o, "dst_port", e->c);
	if (e->type == N_HTTP) {
		f_cstr(o, "method", e->flag % 8 == 0 ? "POST" : "GET");
		f_cstr(o, "path", paths[e->flag % 7]);
		f_uint(o, "status", statuses[e->flag % 12]);
		f_uint(o, "bytes", 200 + (uint64_t) e->flag * 97);
	} else {
		f_uint(o, "win", 64240);
	}
	ev_end(o);
}

/* session schedules a client's connection: SYN, ACK a round trip later
 * (2% of SYNs are never answered), then 1 to 12 requests. */
static void
session(cep_heap *h, uint32_t client, int64_t t)
{
	struct gev e;
	uint32_t   n = (uint32_t) between(1, 12);

	memset(&e, 0, sizeof(e));
	e.who  = client_ip(client);
	e.a    = (uint32_t) between(32768, 60999);
	e.b    = (uint32_t) below(NSERVERS);
	e.c    = below(100) < 80 ? 443 : 80;
	e.type = N_SYN;
	e.t    = t;
	schedule(h, &e);
	if (chance(20000)) {
		return;
	}
	e.type = N_ACK;
	e.t += between(5, 80) * 1000;
	schedule(h, &e);
	e.type = N_HTTP;
	for (uint32_t i = 0; i < n; i++) {
		e.t += between(10, 400) * 1000;
		e.flag = (uint8_t) below(256);
		schedule(h, &e);
	}
}

static uint32_t
next_attacker(struct net *nt)
{
	return (0xcb007100u + (nt->attacker++ % 254) + 1); /* 203.0.113.x */
}

/* syn_flood: 2,000 SYNs a second for 3 s, none acknowledged. */
static void
syn_flood(cep_heap *h, struct net *nt, int64_t t)
{
	struct gev e;

	memset(&e, 0, sizeof(e));
	e.who  = next_attacker(nt);
	e.b    = (uint32_t) below(NSERVERS);
	e.c    = 80;
	e.type = N_SYN;
	for (uint32_t i = 0; i < 6000; i++) {
		e.t = t + (int64_t) i * 500;
		e.a = (uint32_t) between(1024, 65535);
		schedule(h, &e);
	}
	nt->attacks[0]++;
}

/* port_scan: ports 1..1000 in random order over 20 s; 22, 80 and 443
 * answer. */
static void
port_scan(cep_heap *h, struct net *nt, int64_t t)
{
	uint16_t   ports[1000];
	struct gev e;

	for (uint32_t i = 0; i < 1000; i++) {
		ports[i] = (uint16_t) (i + 1);
	}
	for (uint32_t i = 999; i > 0; i--) {
		uint32_t j   = (uint32_t) below(i + 1);
		uint16_t tmp = ports[i];
		ports[i]     = ports[j];
		ports[j]     = tmp;
	}
	memset(&e, 0, sizeof(e));
	e.who = next_attacker(nt);
	e.a   = 51515;
	e.b   = (uint32_t) below(NSERVERS);
	for (uint32_t i = 0; i < 1000; i++) {
		e.type = N_SYN;
		e.t    = t + (int64_t) i * 20000;
		e.c    = ports[i];
		schedule(h, &e);
		if (e.c == 22 || e.c == 80 || e.c == 443) {
			e.type = N_ACK;
			e.t += 1000;
			schedule(h, &e);
		}
	}
	nt->attacks[1]++;
}

/* http_flood: 250 requests a second for 12 s over 10 connections. */
static void
http_flood(cep_heap *h, struct net *nt, int64_t t)
{
	struct gev e;

	memset(&e, 0, sizeof(e));
	e.who = next_attacker(nt);
	e.b   = (uint32_t) below(NSERVERS);
	e.c   = 443;
	for (uint32_t c = 0; c < 10; c++) {
		e.a    = 40000 + c;
		e.type = N_SYN;
		e.t    = t + c * 1000;
		schedule(h, &e);
		e.type = N_ACK;
		e.t += 20000;
		schedule(h, &e);
	}
	e.type = N_HTTP;
	for (uint32_t i = 0; i < 3000; i++) {
		e.a    = 40000 + i % 10;
		e.t    = t + 50000 + (int64_t) i * 4000;
		e.flag = 1; /* GET /search */
		schedule(h, &e);
	}
	nt->attacks[2]++;
}

static void
gen_network(struct out *o, uint64_t n)
{
	struct net nt;
	cep_heap   h;
	struct gev e;
	int64_t    t = 0;
	uint64_t   next_at = ATTACK_EVERY / 6;
	int        next_kind = 0;

	memset(&nt, 0, sizeof(nt));
	cep_heap_init(&h, sizeof(struct gev), gev_less);
	while (o->events < n) {
		const struct gev *top = cep_heap_top(&h);
		if (top == NULL || top->t > t) {
			session(&h, skewed(NCLIENTS, CLIENT_MULT), t);
			if (o->events < n - n / 100 && o->events >= next_at) {
				switch (next_kind) {
				case 0:
					syn_flood(&h, &nt, t);
					break;
				case 1:
					port_scan(&h, &nt, t);
					break;
				default:
					http_flood(&h, &nt, t);
					break;
				}
				next_kind = (next_kind + 1) % 3;
				next_at += ATTACK_EVERY / 3;
			}
			t += between(0, 2 * SESSION_GAP_US);
			continue;
		}
		cep_heap_pop(&h, &e);
		nt.count[e.type]++;
		write_net(o, &e, o->events + 1);
	}
	cep_heap_fini(&h);
	fprintf(stderr, "syn %" PRIu64 ", ack %" PRIu64 ", http %" PRIu64 "\n",
	    nt.count[N_SYN], nt.count[N_ACK], nt.count[N_HTTP]);
	fprintf(stderr,
	    "attacks: syn floods %" PRIu64 ", port scans %" PRIu64
	    ", http floods %" PRIu64 "\n",
	    nt.attacks[0], nt.attacks[1], nt.attacks[2]);
}

/* ---- abc ----------------------------------------------------------------- */

#define ABC_KEYS 1000u

static void
gen_abc(struct out *o, uint64_t n)
{
	uint64_t count[10] = { 0 };

	for (uint64_t i = 0; i < n; i++) {
		uint64_t r    = rnd();
		char     type = (char) ('A' + (r >> 32) % 10);
		ev_begin(o, 4);
		f_uint(o, "id", i + 1);
		f_uint(o, "ts", (uint64_t) T0_MS + i);
		f_uint(o, "key", r % ABC_KEYS);
		f_str(o, "type", &type, 1);
		ev_end(o);
		count[type - 'A']++;
	}
	for (int i = 0; i < 10; i++) {
		fprintf(stderr, "%c %" PRIu64 "%s", 'A' + i, count[i],
		    i < 9 ? ", " : "\n");
	}
}

/* ---- main ---------------------------------------------------------------- */

static int
usage(void)
{
	fprintf(stderr,
	    "usage: gen fraud|network|abc [-n EVENTS] [-s SEED] [-o FILE]\n"
	    "  FILE ending in .msgpack: msgpack maps; otherwise JSON Lines\n");
	return (2);
}

int
main(int argc, char **argv)
{
	const char *what, *path = "-";
	uint64_t    n = 0, seed = 1;
	struct out  o;
	char       *end;
	int         c;

	if (argc < 2) {
		return (usage());
	}
	what = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "n:s:o:")) != -1) {
		switch (c) {
		case 'n':
			n = strtoull(optarg, &end, 10);
			if (*end != '\0' || n == 0) {
				return (usage());
			}
			break;
		case 's':
			seed = strtoull(optarg, &end, 10);
			if (*end != '\0') {
				return (usage());
			}
			break;
		case 'o':
			path = optarg;
			break;
		default:
			return (usage());
		}
	}
	if (optind != argc) {
		return (usage());
	}
	memset(&o, 0, sizeof(o));
	o.msgpack = cep_format_of(path) == CEP_FORMAT_MSGPACK;
	o.f       = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	o.buf     = malloc(OUT_BUF);
	if (o.f == NULL || o.buf == NULL) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		return (1);
	}
	rng_state = seed;
	if (strcmp(what, "fraud") == 0) {
		gen_fraud(&o, n > 0 ? n : 10000000);
	} else if (strcmp(what, "network") == 0) {
		gen_network(&o, n > 0 ? n : 5000000);
	} else if (strcmp(what, "abc") == 0) {
		gen_abc(&o, n > 0 ? n : 1000000);
	} else {
		return (usage());
	}
	out_flush(&o);
	if (fflush(o.f) != 0 || (o.f != stdout && fclose(o.f) != 0)) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		return (1);
	}
	free(o.buf);
	return (0);
}
