/* SPDX-License-Identifier: MIT */
/* keytab.c: partition keys to slots, with owned string copies. */
#include <string.h>

#include "cep/alloc.h"
#include "cep/keytab.h"

#define SEED 0x6b65797461626cull

struct probe {
	const cep_keytab *t;
	const cep_val    *key;
};

static int
eq(const void *ctx, uint32_t slot)
{
	const struct probe *p = ctx;

	return (cep_val_equal(&p->t->ents[slot].key, p->key));
}

void
cep_keytab_init(cep_keytab *t)
{
	memset(t, 0, sizeof(*t));
	t->free = CEP_KEYTAB_NONE;
	cep_htab_init(&t->index);
}

static void
free_key(cep_keyent *e)
{
	if (e->key.type == CEP_T_STR) {
		cep_free((char *) e->key.u.s, e->key.len + 1);
	}
	e->key = cep_val_null();
}

void
cep_keytab_fini(cep_keytab *t)
{
	for (uint32_t i = 0; i < t->n; i++) {
		free_key(&t->ents[i]);
	}
	cep_free(t->ents, t->cap * sizeof(cep_keyent));
	cep_htab_fini(&t->index);
	memset(t, 0, sizeof(*t));
	t->free = CEP_KEYTAB_NONE;
}

uint64_t
cep_keytab_hash(const cep_val *key)
{
	return (cep_val_hash(key, SEED));
}

uint32_t
cep_keytab_find(const cep_keytab *t, const cep_val *key, uint64_t hash)
{
	struct probe p    = { t, key };
	uint32_t    *slot = cep_htab_find(&t->index, hash, eq, &p);

	return (slot == NULL ? CEP_KEYTAB_NONE : *slot);
}

cep_err
cep_keytab_add(cep_keytab *t, const cep_val *key, uint64_t hash, uint32_t *out)
{
	uint32_t    slot;
	cep_keyent *e;
	cep_val     v = *key;

	if (v.type == CEP_T_STR &&
	    (v.u.s = cep_strndup(key->u.s, key->len)) == NULL) {
		return (CEP_ENOMEM);
	}
	if (t->free != CEP_KEYTAB_NONE) {
		slot    = t->free;
		t->free = t->ents[slot].next_free;
	} else if (t->n == CEP_KEYTAB_NONE - 1 ||
	    cep_grow(&t->ents, &t->cap, (size_t) t->n + 1,
	        sizeof(cep_keyent)) != 0) {
		goto nomem;
	} else {
		slot = t->n++;
		memset(&t->ents[slot], 0, sizeof(cep_keyent));
	}
	if (cep_htab_insert(&t->index, hash, slot) != CEP_OK) {
		t->ents[slot].next_free = t->free;
		t->free                 = slot;
		goto nomem;
	}
	e            = &t->ents[slot];
	e->key       = v;
	e->hash      = hash;
	e->used      = 1;
	e->next_free = CEP_KEYTAB_NONE;
	t->live++;
	*out = slot;
	return (CEP_OK);
nomem:
	if (v.type == CEP_T_STR) {
		cep_free((char *) v.u.s, v.len + 1);
	}
	return (CEP_ENOMEM);
}

cep_err
cep_keytab_get(cep_keytab *t, const cep_val *key, uint32_t *slot)
{
	uint64_t h = cep_keytab_hash(key);

	if ((*slot = cep_keytab_find(t, key, h)) != CEP_KEYTAB_NONE) {
		return (CEP_OK);
	}
	return (cep_keytab_add(t, key, h, slot));
}

void
cep_keytab_remove(cep_keytab *t, uint32_t slot)
{
	cep_keyent *e = &t->ents[slot];

	if (!e->used) {
		return;
	}
	cep_htab_remove_val(&t->index, e->hash, slot);
	free_key(e);
	e->used = 0;
	e->gen++;
	e->next_free = t->free;
	t->free      = slot;
	t->live--;
}

void
cep_keytab_put_val(cep_buf *b, const cep_val *v)
{
	cep_buf_put_u8(b, v->type);
	switch ((cep_type) v->type) {
	case CEP_T_INT:
		cep_buf_put_i64(b, v->u.i);
		break;
	case CEP_T_DOUBLE:
		cep_buf_put_f64(b, v->u.d);
		break;
	case CEP_T_BOOL:
		cep_buf_put_u8(b, (uint8_t) v->u.b);
		break;
	case CEP_T_STR:
		cep_buf_put_blob(b, v->u.s, v->len);
		break;
	case CEP_T_NULL:
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		break;
	}
}

cep_err
cep_keytab_read_val(cep_rd *r, cep_val *v)
{
	size_t len;

	v->type = cep_rd_u8(r);
	v->len  = 0;
	switch ((cep_type) v->type) {
	case CEP_T_NULL:
		v->u.i = 0;
		return (cep_rd_status(r));
	case CEP_T_INT:
		v->u.i = cep_rd_i64(r);
		return (cep_rd_status(r));
	case CEP_T_DOUBLE:
		v->u.d = cep_rd_f64(r);
		return (cep_rd_status(r));
	case CEP_T_BOOL:
		v->u.b = cep_rd_u8(r) != 0;
		return (cep_rd_status(r));
	case CEP_T_STR:
		v->u.s = cep_rd_blob(r, &len);
		v->len = (uint32_t) len;
		return (v->u.s == NULL || len > UINT32_MAX ? CEP_ECORRUPT
		                                           : CEP_OK);
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		break;
	}
	return (CEP_ECORRUPT);
}

cep_err
cep_keytab_save(const cep_keytab *t, const char *ns, cep_state_out *out,
    const cep_buf *head,
    cep_err (*put_key)(void *arg, uint32_t slot, cep_buf *val), void *arg)
{
	cep_buf k, v;
	cep_err rv;

	if ((rv = cep_buf_status(head)) != CEP_OK ||
	    (rv = cep_state_put(out, ns, "", 0, head->data, head->len)) !=
	        CEP_OK) {
		return (rv);
	}
	cep_buf_init(&k);
	cep_buf_init(&v);
	for (uint32_t s = 0; rv == CEP_OK && s < t->n; s++) {
		if (!cep_keytab_used(t, s)) {
			continue;
		}
		cep_buf_reset(&k);
		cep_buf_reset(&v);
		cep_buf_put_u8(&k, 1); /* after the empty key */
		cep_keytab_put_val(&k, cep_keytab_key(t, s));
		if ((rv = put_key(arg, s, &v)) == CEP_ENOENT) {
			rv = CEP_OK;
			continue;
		}
		if (rv == CEP_OK && (rv = cep_buf_status(&k)) == CEP_OK &&
		    (rv = cep_buf_status(&v)) == CEP_OK) {
			rv = cep_state_put(
			    out, ns, k.data, k.len, v.data, v.len);
		}
	}
	cep_buf_fini(&k);
	cep_buf_fini(&v);
	return (rv);
}

struct load_ctx {
	cep_err (*head)(void *arg, cep_rd *val);
	cep_err (*key)(void *arg, const cep_val *key, cep_rd *val);
	void *arg;
};

static cep_err
load_entry(
    void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	const struct load_ctx *c = arg;
	cep_rd                 kr, vr;
	cep_val                kv;

	cep_rd_init(&vr, val, vlen);
	if (klen == 0) {
		return (c->head(c->arg, &vr));
	}
	cep_rd_init(&kr, key, klen);
	if (cep_rd_u8(&kr) != 1 || cep_keytab_read_val(&kr, &kv) != CEP_OK ||
	    cep_rd_left(&kr) != 0) {
		return (CEP_ECORRUPT);
	}
	return (c->key(c->arg, &kv, &vr));
}

cep_err
cep_keytab_load(cep_state_in *in, const char *ns,
    cep_err (*head)(void *arg, cep_rd *val),
    cep_err (*key)(void *arg, const cep_val *key, cep_rd *val), void *arg)
{
	struct load_ctx c = { head, key, arg };

	return (cep_state_each(in, ns, load_entry, &c));
}
