/* SPDX-License-Identifier: MIT */
/*
 * duration.h: durations as rules and options write them.
 *
 * A duration is an integer followed by a unit: ms, s, m, h or d ("250ms",
 * "10m").  Values are milliseconds in an int64_t.
 *
 * Event times and durations are bounded by CEP_TIME_LIMIT (2^61 ms, some
 * 73 million years), so that a time plus or minus a duration or two never
 * overflows: a time outside [-CEP_TIME_LIMIT, CEP_TIME_LIMIT] is not a
 * usable event time, and a longer duration is out of range.
 */
#ifndef CEP_DURATION_H
#define CEP_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "cep/errors.h"

#define CEP_TIME_LIMIT (INT64_C(1) << 61)

/* Parse n bytes.  CEP_EINVAL when it is not a duration, CEP_ERANGE when it
 * is longer than CEP_TIME_LIMIT. */
cep_err cep_duration_parse(const char *s, size_t n, int64_t *ms);
/* Write ms in its largest exact unit ("10m", "1500ms", "0ms"); buf holds
 * at least CEP_DURATION_BUF bytes.  Returns buf. */
#define CEP_DURATION_BUF 32
const char *cep_duration_format(int64_t ms, char *buf);

#endif
