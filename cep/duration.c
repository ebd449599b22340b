/* SPDX-License-Identifier: MIT */
/* duration.c: parsing and printing durations ("250ms", "10m"). */
#include <stdio.h>
#include <string.h>

#include "cep/duration.h"

static const struct unit {
	const char *name;
	int64_t     ms;
} units[] = {
	{ "d", 86400000 },
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

#define NUNITS (sizeof(units) / sizeof(units[0]))

cep_err
cep_duration_parse(const char *s, size_t n, int64_t *ms)
{
	size_t  digits = 0;
	int64_t x      = 0;

	while (digits < n && s[digits] >= '0' && s[digits] <= '9') {
		digits++;
	}
	if (digits == 0) {
		return (CEP_EINVAL);
	}
	for (size_t u = 0; u < NUNITS; u++) {
		size_t ulen = strlen(units[u].name);
		if (n - digits != ulen ||
		    memcmp(s + digits, units[u].name, ulen) != 0) {
			continue;
		}
		for (size_t i = 0; i < digits; i++) {
			int d = s[i] - '0';
			if (x > (INT64_MAX - d) / 10) {
				return (CEP_ERANGE);
			}
			x = x * 10 + d;
		}
		if (x > CEP_TIME_LIMIT / units[u].ms) {
			return (CEP_ERANGE);
		}
		*ms = x * units[u].ms;
		return (CEP_OK);
	}
	return (CEP_EINVAL);
}

const char *
cep_duration_format(int64_t ms, char *buf)
{
	for (size_t u = 0; ms > 0 && u < NUNITS; u++) {
		if (ms % units[u].ms == 0) {
			snprintf(buf, CEP_DURATION_BUF, "%lld%s",
			    (long long) (ms / units[u].ms), units[u].name);
			return (buf);
		}
	}
	snprintf(buf, CEP_DURATION_BUF, "%lldms", (long long) ms);
	return (buf);
}
