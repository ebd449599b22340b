/* SPDX-License-Identifier: MIT */
/*
 * cep.h: the public header of the dataflow core.
 *
 * Other modules include only this file.  It gathers the facets: errors and
 * diagnostics, allocation, buffers and hashing, symbols, values and events,
 * and the codecs that turn JSON and msgpack into events and back.
 */
#ifndef CEP_CEP_H
#define CEP_CEP_H

#include "cep/alloc.h"
#include "cep/buf.h"
#include "cep/codec.h"
#include "cep/diag.h"
#include "cep/duration.h"
#include "cep/errors.h"
#include "cep/event.h"
#include "cep/flow.h"
#include "cep/hash.h"
#include "cep/heap.h"
#include "cep/keytab.h"
#include "cep/reader.h"
#include "cep/state.h"
#include "cep/sym.h"
#include "cep/value.h"

#endif
