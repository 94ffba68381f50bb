/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stats.c - the control thread's view of the lcores' counters: sums of
 * relaxed loads (each lcore only ever increments its own), the ports' own
 * drop counters, the per-partition record counts, and their text forms.
 */
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp_ack.h"
#include "dp_frag.h"
#include "dp_lcore_int.h"
#include "dp_stats.h"

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void lcore_add(const struct dp_lcore *c, struct dp_stats *out)
{
	struct dp_frag_stats fs;

	out->rx_packets += ld(&c->rx_packets);
	out->rx_bytes += ld(&c->rx_bytes);
	out->stored += ld(&c->stored);
	out->records += ld(&c->records);
	for (unsigned int r = 1; r < DP_DROP__COUNT; r++)
		out->drops[r] += ld(&c->drops[r]);
	if (c->acks) {
		out->acks_sent += ld(&c->acks->sent);
		out->acks_lost += ld(&c->acks->lost);
	}
	if (c->frag) {
		/* a plain copy: a torn read of one field only skews this snapshot */
		dp_frag_stats_get(c->frag, &fs);
		out->frag_held += fs.held;
	}
}

void dp_stats_read(const struct dp_lcores *l, struct dp_stats *out)
{
	struct rte_eth_stats es;

	memset(out, 0, sizeof(*out));
	if (l == NULL)
		return;
	for (unsigned int i = 0; i < l->n; i++)
		lcore_add(l->lc[i], out);
	for (unsigned int i = 0; l->ports && i < l->ports->n; i++) {
		if (!l->ports->port[i].started ||
		    rte_eth_stats_get(l->ports->port[i].port_id, &es) != 0)
			continue;
		out->drops[DP_DROP_imissed] += es.imissed;
		out->drops[DP_DROP_rx_nombuf] += es.rx_nombuf;
	}
}

unsigned int dp_stats_lcores(const struct dp_lcores *l, struct dp_lcore_stats *out,
			     unsigned int max)
{
	if (l == NULL)
		return 0;
	for (unsigned int i = 0; i < l->n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].lcore_id = l->lc[i]->lcore_id;
		out[i].n_queues = l->lc[i]->n_queues;
		lcore_add(l->lc[i], &out[i].s);
	}
	return l->n;
}

unsigned int dp_stats_ports(const struct dp_lcores *l, struct dp_port_stats *out,
			    unsigned int max)
{
	struct rte_eth_stats es;

	if (l == NULL || l->ports == NULL)
		return 0;
	for (unsigned int i = 0; i < l->ports->n && i < max; i++) {
		const struct dp_port *p = &l->ports->port[i];

		memset(&out[i], 0, sizeof(out[i]));
		out[i].name = p->conf ? p->conf->name : "";
		out[i].port_id = p->port_id;
		if (!p->started || rte_eth_stats_get(p->port_id, &es) != 0)
			continue;
		out[i].started = true;
		out[i].ipackets = es.ipackets;
		out[i].ibytes = es.ibytes;
		out[i].imissed = es.imissed;
		out[i].ierrors = es.ierrors;
		out[i].rx_nombuf = es.rx_nombuf;
	}
	return l->ports->n;
}

void dp_stats_foreach_partition(const struct dp_lcores *l,
				void (*fn)(void *arg, const char *topic, int32_t partition,
					   uint64_t records),
				void *arg)
{
	if (l == NULL)
		return;
	for (unsigned int t = 0; t < l->n_topics; t++) {
		const struct dp_topic_map *tm = &l->topic[t];

		for (int32_t i = 0; i < tm->n_parts; i++) {
			uint32_t slot = tm->slot_base + (uint32_t)i;
			uint64_t n = 0;

			/* the owner counts produce-mode batches, queue feeders count tap records */
			for (unsigned int c = 0; c < l->n; c++)
				n += ld(&l->lc[c]->part_records[slot]);
			fn(arg, tm->name, i, n);
		}
	}
}

int dp_stats_format(const struct dp_stats *s, char *buf, size_t size)
{
	size_t off;
	int n, any = 0;

	n = snprintf(buf, size, "DP: rx %" PRIu64 ", stored %" PRIu64 ", records %" PRIu64
		     ", drops:", s->rx_packets, s->stored, s->records);
	if (n < 0)
		return n;
	off = (size_t)n;
	for (unsigned int r = 1; r < DP_DROP__COUNT; r++) {
		if (!s->drops[r])
			continue;
		any = 1;
		n = snprintf(buf + (off < size ? off : size), off < size ? size - off : 0,
			     " %s=%" PRIu64, dp_drop_name(r), s->drops[r]);
		off += (size_t)(n < 0 ? 0 : n);
	}
	if (!any) {
		n = snprintf(buf + (off < size ? off : size), off < size ? size - off : 0, " none");
		off += (size_t)(n < 0 ? 0 : n);
	}
	return (int)off;
}

static void dump_part(void *arg, const char *topic, int32_t partition, uint64_t records)
{
	fprintf(arg, "  %s/%" PRId32 ": %" PRIu64 " records\n", topic, partition, records);
}

void dp_stats_dump(const struct dp_lcores *l, FILE *out)
{
	char line[2048];
	struct dp_stats s;

	if (l == NULL)
		return;
	for (unsigned int i = 0; i < l->n; i++) {
		memset(&s, 0, sizeof(s));
		lcore_add(l->lc[i], &s);
		dp_stats_format(&s, line, sizeof(line));
		fprintf(out, "lcore %u (%u queues, %u partitions): %s\n", l->lc[i]->lcore_id,
			l->lc[i]->n_queues, l->lc[i]->n_owned, line);
	}
	dp_stats_read(l, &s);
	dp_stats_format(&s, line, sizeof(line));
	fprintf(out, "total: %s\n", line);
	dp_stats_foreach_partition(l, dump_part, out);
}
