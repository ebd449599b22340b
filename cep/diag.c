/* SPDX-License-Identifier: MIT */
/* diag.c: a growable list of located diagnostics. */
#include <stdlib.h>
#include <string.h>

#include "cep/alloc.h"
#include "cep/diag.h"

struct cep_diag {
	cep_diag_item *items;
	size_t         n;
	size_t         cap;
	char         **files; /* owned copies of file names */
	size_t         nfiles;
	size_t         files_cap;
	int            lost;
};

cep_diag *
cep_diag_create(void)
{
	return (cep_zalloc(sizeof(cep_diag)));
}

void
cep_diag_clear(cep_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		cep_strfree(d->items[i].message);
	}
	d->n    = 0;
	d->lost = 0;
}

void
cep_diag_destroy(cep_diag *d)
{
	if (d == NULL) {
		return;
	}
	cep_diag_clear(d);
	for (size_t i = 0; i < d->nfiles; i++) {
		cep_strfree(d->files[i]);
	}
	cep_free(d->files, d->files_cap * sizeof(char *));
	cep_free(d->items, d->cap * sizeof(cep_diag_item));
	cep_free(d, sizeof(*d));
}

/* own_file returns the diag's copy of a file name, adding it if new. */
static const char *
own_file(cep_diag *d, const char *file)
{
	char *copy;

	if (file == NULL) {
		return (NULL);
	}
	for (size_t i = 0; i < d->nfiles; i++) {
		if (d->files[i] == file || strcmp(d->files[i], file) == 0) {
			return (d->files[i]);
		}
	}
	if (cep_grow(&d->files, &d->files_cap, d->nfiles + 1,
	        sizeof(char *)) != 0 ||
	    (copy = cep_strdup(file)) == NULL) {
		return (NULL);
	}
	d->files[d->nfiles++] = copy;
	return (copy);
}

void
cep_diag_vadd(
    cep_diag *d, cep_severity sev, cep_loc loc, const char *fmt, va_list ap)
{
	char          *msg;
	int            len;
	va_list        ap2;
	cep_diag_item *it;

	if (d == NULL) {
		return;
	}
	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0 ||
	    cep_grow(&d->items, &d->cap, d->n + 1, sizeof(cep_diag_item)) !=
	        0 ||
	    (msg = cep_alloc((size_t) len + 1)) == NULL) {
		d->lost = 1;
		return;
	}
	vsnprintf(msg, (size_t) len + 1, fmt, ap);
	it           = &d->items[d->n++];
	it->severity = sev;
	it->loc      = loc;
	it->loc.file = own_file(d, loc.file);
	it->message  = msg;
	if (loc.file != NULL && it->loc.file == NULL) {
		d->lost = 1;
	}
}

void
cep_diag_add(cep_diag *d, cep_severity sev, cep_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cep_diag_vadd(d, sev, loc, fmt, ap);
	va_end(ap);
}

void
cep_diag_error(cep_diag *d, cep_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cep_diag_vadd(d, CEP_SEV_ERROR, loc, fmt, ap);
	va_end(ap);
}

size_t
cep_diag_count(const cep_diag *d, int sev)
{
	size_t n = 0;

	if (d == NULL) {
		return (0);
	}
	if (sev < 0) {
		return (d->n);
	}
	for (size_t i = 0; i < d->n; i++) {
		n += d->items[i].severity == (cep_severity) sev;
	}
	return (n);
}

const cep_diag_item *
cep_diag_get(const cep_diag *d, size_t i)
{
	return (i < d->n ? &d->items[i] : NULL);
}

int
cep_diag_lost(const cep_diag *d)
{
	return (d != NULL && d->lost);
}

static int
compare_items(const cep_diag_item *a, const cep_diag_item *b)
{
	int c;

	if (a->loc.file != b->loc.file) {
		if (a->loc.file == NULL || b->loc.file == NULL) {
			return (a->loc.file == NULL ? -1 : 1);
		}
		if ((c = strcmp(a->loc.file, b->loc.file)) != 0) {
			return (c);
		}
	}
	if (a->loc.line != b->loc.line) {
		return (a->loc.line < b->loc.line ? -1 : 1);
	}
	if (a->loc.col != b->loc.col) {
		return (a->loc.col < b->loc.col ? -1 : 1);
	}
	return (0);
}

void
cep_diag_sort(cep_diag *d)
{
	/* Insertion sort: stable, and lists are short. */
	for (size_t i = 1; i < d->n; i++) {
		cep_diag_item it = d->items[i];
		size_t        j  = i;
		while (j > 0 && compare_items(&d->items[j - 1], &it) > 0) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = it;
	}
}

static const char *
severity_name(cep_severity sev)
{
	switch (sev) {
	case CEP_SEV_ERROR:
		return ("error");
	case CEP_SEV_WARNING:
		return ("warning");
	case CEP_SEV_NOTE:
		return ("note");
	}
	return ("error");
}

size_t
cep_diag_format(const cep_diag_item *it, char *buf, size_t cap)
{
	int n;

	if (it->loc.file != NULL && it->loc.line > 0 && it->loc.col > 0) {
		n = snprintf(buf, cap, "%s:%u:%u: %s: %s", it->loc.file,
		    it->loc.line, it->loc.col, severity_name(it->severity),
		    it->message);
	} else if (it->loc.file != NULL && it->loc.line > 0) {
		n = snprintf(buf, cap, "%s:%u: %s: %s", it->loc.file,
		    it->loc.line, severity_name(it->severity), it->message);
	} else if (it->loc.file != NULL) {
		n = snprintf(buf, cap, "%s: %s: %s", it->loc.file,
		    severity_name(it->severity), it->message);
	} else {
		n = snprintf(buf, cap, "%s: %s", severity_name(it->severity),
		    it->message);
	}
	return (n < 0 ? 0 : (size_t) n);
}

cep_err
cep_diag_print(const cep_diag *d, FILE *out)
{
	char line[1024];

	for (size_t i = 0; d != NULL && i < d->n; i++) {
		size_t n = cep_diag_format(&d->items[i], line, sizeof(line));
		/* A message longer than the line buffer is printed whole. */
		if (n >= sizeof(line)) {
			char *big = cep_alloc(n + 1);
			if (big == NULL) {
				return (CEP_ENOMEM);
			}
			cep_diag_format(&d->items[i], big, n + 1);
			fprintf(out, "%s\n", big);
			cep_free(big, n + 1);
		} else {
			fprintf(out, "%s\n", line);
		}
	}
	if (d != NULL && d->lost) {
		fprintf(out,
		    "error: some diagnostics were lost (out of "
		    "memory)\n");
	}
	return (ferror(out) ? CEP_EIO : CEP_OK);
}
