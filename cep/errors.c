/* SPDX-License-Identifier: MIT */
/* errors.c: messages and names of the cep_err codes, from the X-macro. */
#include "cep/errors.h"

static const char *const messages[] = {
#define CEP__ERR_MSG(name, msg) msg,
	CEP_ERRNO_MAP(CEP__ERR_MSG)
#undef CEP__ERR_MSG
};

static const char *const names[] = {
#define CEP__ERR_NAME(name, msg) #name,
	CEP_ERRNO_MAP(CEP__ERR_NAME)
#undef CEP__ERR_NAME
};

const char *
cep_strerror(cep_err err)
{
	if ((unsigned) err >= CEP__ERR_COUNT) {
		return ("unknown error");
	}
	return (messages[err]);
}

const char *
cep_errname(cep_err err)
{
	if ((unsigned) err >= CEP__ERR_COUNT) {
		return ("UNKNOWN");
	}
	return (names[err]);
}
