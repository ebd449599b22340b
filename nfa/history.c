/* SPDX-License-Identifier: MIT */
/*
 * history.c: the pools of stored events and partial-match nodes.
 *
 * See nfa_impl.h for why partial matches are persistent lists.  Both pools
 * grow by doubling and recycle freed entries through free lists, so a
 * steady stream allocates nothing; event blocks come from a slab.
 */
#include <string.h>

#include "nfa/nfa_impl.h"

cep_err
nfa__hist_init(nfa_hist *h)
{
	memset(h, 0, sizeof(*h));
	if ((h->slab = cep_slab_create()) == NULL) {
		return (CEP_ENOMEM);
	}
	/* Entry 0 of each pool is "none". */
	h->nevs   = 1;
	h->nnodes = 1;
	if (cep_grow(&h->evs, &h->evs_cap, 1, sizeof(nfa_evslot)) != 0 ||
	    cep_grow(&h->nodes, &h->nodes_cap, 1, sizeof(nfa_node)) != 0) {
		return (CEP_ENOMEM);
	}
	memset(&h->evs[0], 0, sizeof(nfa_evslot));
	memset(&h->nodes[0], 0, sizeof(nfa_node));
	return (CEP_OK);
}

void
nfa__hist_fini(nfa_hist *h)
{
	for (uint32_t i = 1; i < h->nevs; i++) {
		if (h->evs[i].ev != NULL) {
			cep_event_unref(h->evs[i].ev, h->slab);
		}
	}
	cep_free(h->evs, h->evs_cap * sizeof(nfa_evslot));
	cep_free(h->nodes, h->nodes_cap * sizeof(nfa_node));
	cep_slab_destroy(h->slab);
	memset(h, 0, sizeof(*h));
}

cep_err
nfa__hist_adopt(nfa_hist *h, cep_event *ev, int64_t ts, uint64_t seq,
    uint32_t *out)
{
	uint32_t    slot;
	nfa_evslot *s;

	if (h->ev_free != 0) {
		slot       = h->ev_free;
		h->ev_free = h->evs[slot].next_free;
	} else {
		if (h->nevs == UINT32_MAX ||
		    cep_grow(&h->evs, &h->evs_cap, (size_t) h->nevs + 1,
		        sizeof(nfa_evslot)) != 0) {
			return (CEP_ENOMEM);
		}
		slot = h->nevs++;
	}
	s            = &h->evs[slot];
	s->ev        = ev;
	s->ts        = ts;
	s->seq       = seq;
	s->refs      = 1;
	s->next_free = 0;
	h->ev_live++;
	h->ev_bytes += ev->size;
	*out = slot;
	return (CEP_OK);
}

cep_err
nfa__hist_store(nfa_hist *h, const cep_event *ev, int64_t ts, uint64_t seq,
    uint32_t *out)
{
	cep_event *copy = cep_event_copy(ev, h->slab);
	cep_err    rv;

	if (copy == NULL) {
		return (CEP_ENOMEM);
	}
	if ((rv = nfa__hist_adopt(h, copy, ts, seq, out)) != CEP_OK) {
		cep_event_unref(copy, h->slab);
	}
	return (rv);
}

void
nfa__hist_ev_unref(nfa_hist *h, uint32_t slot)
{
	nfa_evslot *s = &h->evs[slot];

	if (--s->refs > 0) {
		return;
	}
	h->ev_bytes -= s->ev->size;
	cep_event_unref(s->ev, h->slab);
	s->ev        = NULL;
	s->next_free = h->ev_free;
	h->ev_free   = slot;
	h->ev_live--;
}

cep_err
nfa__hist_node(nfa_hist *h, uint32_t ev, uint32_t prev, uint16_t step,
    uint32_t *out)
{
	uint32_t  idx;
	nfa_node *n;

	if (h->node_free != 0) {
		idx          = h->node_free;
		h->node_free = h->nodes[idx].prev;
	} else {
		if (h->nnodes == UINT32_MAX ||
		    cep_grow(&h->nodes, &h->nodes_cap, (size_t) h->nnodes + 1,
		        sizeof(nfa_node)) != 0) {
			return (CEP_ENOMEM);
		}
		idx = h->nnodes++;
	}
	n       = &h->nodes[idx];
	n->ev   = ev;
	n->prev = prev;
	n->refs = 1;
	n->step = step;
	n->pad  = 0;
	nfa__hist_ev_ref(h, ev);
	nfa__hist_ref(h, prev);
	h->node_live++;
	*out = idx;
	return (CEP_OK);
}

void
nfa__hist_unref(nfa_hist *h, uint32_t node)
{
	/* Iterative, so that freeing a long list does not recurse. */
	while (node != 0 && --h->nodes[node].refs == 0) {
		nfa_node *n    = &h->nodes[node];
		uint32_t  prev = n->prev;
		nfa__hist_ev_unref(h, n->ev);
		n->prev      = h->node_free;
		h->node_free = node;
		h->node_live--;
		node = prev;
	}
}
