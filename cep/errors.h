/* SPDX-License-Identifier: MIT */
/*
 * errors.h: the one error enum of the project.
 *
 * Every fallible function returns a cep_err; CEP_OK is 0.  The codes and
 * their messages come from one X-macro list so they never drift apart.
 */
#ifndef CEP_ERRORS_H
#define CEP_ERRORS_H

#define CEP_ERRNO_MAP(X)                                       \
	X(OK, "success")                                       \
	X(ENOMEM, "out of memory")                             \
	X(EINVAL, "invalid argument")                          \
	X(EPARSE, "malformed input")                           \
	X(ETYPE, "type error")                                 \
	X(ERANGE, "value out of range")                        \
	X(ENOENT, "not found")                                 \
	X(EEXIST, "already exists")                            \
	X(ELIMIT, "limit exceeded")                            \
	X(EIO, "input/output error")                           \
	X(ECORRUPT, "corrupt or incompatible serialized data") \
	X(ESTATE, "object is in a failed state")               \
	X(ECLOSED, "closed")                                   \
	X(EAGAIN, "try again")                                 \
	X(EINTERNAL, "internal error")

typedef enum cep_err {
#define CEP__ERR_ENUM(name, msg) CEP_##name,
	CEP_ERRNO_MAP(CEP__ERR_ENUM)
#undef CEP__ERR_ENUM
	    CEP__ERR_COUNT
} cep_err;

/* cep_strerror returns a static, human-readable message for an error code
 * (an unknown code gives "unknown error").  Thread-safe. */
const char *cep_strerror(cep_err err);

/* cep_errname returns the code's name without prefix ("ENOMEM"). */
const char *cep_errname(cep_err err);

#endif
