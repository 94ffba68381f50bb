/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice - the operator's command line tool.
 *
 * Subcommands work on the data directory and the configuration offline;
 * they never need the daemon (that is what the Kafka protocol is for).
 * The exception is `groups`, which asks a running broker about its
 * consumer groups over the Kafka protocol with librdkafka, as any client
 * would (ListGroups, DescribeGroups, OffsetFetch, ListOffsets), like
 * kafka-consumer-groups.sh --describe; and `produce-udp`, a producer for
 * the dataplane's UDP produce mode (sluice_produce_udp.c); `export`
 * (sluice_export.c) rebuilds captures from tap records, offline from the
 * data directory or, with -b, from a running broker; and `top`, a live
 * view from the daemon's metrics endpoint (sluice_top.c).
 * Each subcommand is one row of the table below: name, one-line summary,
 * handler.  Handlers return the process exit code.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "sluice_build.h"
#include "fwc_config.h"
#include "sluice_cmds.h"
#include "st_dump.h"

struct sluice_cmd {
	const char *name;
	const char *args;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static int cmd_check_config(int argc, char **argv);
static int cmd_dump_log(int argc, char **argv);
static int cmd_groups(int argc, char **argv);
static int cmd_verify(int argc, char **argv);

static const struct sluice_cmd sluice_cmds[] = {
	{ "acls", "add|remove|list --file F", "manage Kafka ACLs (Topic, Group) in a file",
	  sluice_cmd_acls },
	{ "check-config", "[FILE]", "validate a configuration file (default: the embedded one)",
	  cmd_check_config },
	{ "dump-log", "[--records] PATH...", "print the batches of segment files (.log/.index/.timeindex)",
	  cmd_dump_log },
	{ "export", "-t TOPIC --pcap OUT [DIR]",
	  "rebuild a capture (pcap, pcapng) or print a tap topic's records",
	  sluice_cmd_export },
	{ "groups", "[-b HOST:PORT] [GROUP...]", "describe a running broker's consumer groups and lag",
	  cmd_groups },
	{ "produce-udp", "[OPTIONS] HOST:PORT", "send stdin's lines to a produce-mode rule (UDP, acks)",
	  sluice_cmd_produce_udp },
	{ "top", "[--metrics H:P] [--once|--json]", "live view of a running sluiced (its metrics endpoint)",
	  sluice_cmd_top },
	{ "users", "add|delete|list --file F", "manage SASL users (SCRAM credentials) in a file",
	  sluice_cmd_users },
	{ "verify", "DIR", "check a data directory: CRCs, offsets, indexes",
	  cmd_verify },
};

#define N_CMDS (sizeof(sluice_cmds) / sizeof(sluice_cmds[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: sluice COMMAND [ARGS...]\n"
		     "       sluice --help | --version\n\nCommands:\n");
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(out, "  %-13s %-26s %s\n", sluice_cmds[i].name, sluice_cmds[i].args,
			sluice_cmds[i].summary);
	fprintf(out, "\n'sluice COMMAND --help' describes a command.\n");
}

static int cmd_check_config(int argc, char **argv)
{
	static struct fwc_config cfg;
	struct fwc_diag diag = { 0 };

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"Usage: sluice check-config [FILE]\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	fwc_config_defaults(&cfg);
	if (argc == 2)
		fwc_config_load(&cfg, argv[1], &diag);
	else
		fwc_config_load_default(&cfg, &diag);
	fwc_config_validate(&cfg, 0, &diag);
	if (diag.n_errors) {
		fprintf(stderr, "sluice: %u error%s\n", diag.n_errors, diag.n_errors == 1 ? "" : "s");
		return 2;
	}
	printf("%s: OK\n", argc == 2 ? argv[1] : FWC_DEFAULT_NAME);
	return 0;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/* Exit codes: 0 all valid, 1 corrupt or torn, 2 usage or unreadable. */
static int cmd_dump_log(int argc, char **argv)
{
	bool records = false;
	int worst = 0, n = 0, rc;

	if (wants_help(argc, argv)) {
		printf("Usage: sluice dump-log [--records] PATH...\n"
		       "Print each batch (offsets, count, size, timestamps, producer, CRC) like\n"
		       "kafka-dump-log.sh; --records also prints keys, values and headers.\n"
		       "Exit 0 when every batch is valid, 1 on a corrupt or torn segment.\n");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--records") || !strcmp(argv[i], "--print-data-log")) {
			records = true;
			continue;
		}
		printf("Dumping %s\n", argv[i]);
		rc = st_dump_log(stdout, argv[i], records);
		n++;
		if (rc < 0) {
			fprintf(stderr, "sluice: %s: %s\n", argv[i], strerror(-rc));
			worst = 2;
		} else if (rc > worst) {
			worst = rc;
		}
	}
	if (n == 0) {
		fprintf(stderr, "Usage: sluice dump-log [--records] PATH...\n");
		return 2;
	}
	return worst;
}

static int cmd_verify(int argc, char **argv)
{
	int rc;

	if (wants_help(argc, argv) || argc != 2) {
		fprintf(argc == 2 ? stdout : stderr,
			"Usage: sluice verify DIR\n"
			"Check every segment under DIR (a log.dirs directory or one partition):\n"
			"batch headers, CRC-32C, contiguous offsets, index entries.\n");
		return argc == 2 ? 0 : 2;
	}
	rc = st_verify_dir(stdout, argv[1]);
	if (rc < 0) {
		fprintf(stderr, "sluice: %s: %s\n", argv[1], strerror(-rc));
		return 2;
	}
	return rc;
}

/* ---- groups: the one subcommand that talks to a running broker ---------------- */

#define GROUPS_TIMEOUT_MS 10000

struct groups_ctx {
	const char *bootstrap;
	rd_kafka_t *rk;                 /* lists, describes, metadata, watermarks */
	const rd_kafka_metadata_t *md;  /* every topic, for committed offsets off the assignments */
};

/* librdkafka's own log lines (connection retries...) would bury the answer. */
static void groups_quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

/* A handle on @bootstrap; a consumer (for rd_kafka_committed) when @group is set. */
static rd_kafka_t *groups_handle(const char *bootstrap, const char *group)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "client.id", "sluice-groups", err, sizeof(err)) ||
	    (group && (rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
		       rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))))) {
		fprintf(stderr, "sluice groups: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, groups_quiet_log);
	rk = rd_kafka_new(group ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk)
		fprintf(stderr, "sluice groups: %s\n", err);
	return rk;
}

/* A bounds-checked big-endian cursor over ConsumerProtocol bytes. */
struct cp_cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static int64_t cp_int(struct cp_cursor *c, size_t n)
{
	int64_t v = 0;

	if (c->bad || c->left < n) {
		c->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | c->p[i];
	c->p += n;
	c->left -= n;
	return n == 2 ? (int16_t)v : (int32_t)v;
}

/*
 * Add a member's assigned partitions to @parts, each with the member id as
 * its opaque.  The ConsumerProtocol assignment: version i16, topics
 * [topic STRING, partitions [i32]], user_data BYTES (not needed).
 * @return 0, or -1 if the bytes do not parse.
 */
static int groups_add_assignment(rd_kafka_topic_partition_list_t *parts,
				 const struct rd_kafka_group_member_info *m)
{
	struct cp_cursor c = { m->member_assignment, (size_t)m->member_assignment_size, false };
	int32_t n_topics;

	if (m->member_assignment_size <= 0)
		return 0;
	(void)cp_int(&c, 2);                             /* version */
	n_topics = (int32_t)cp_int(&c, 4);               /* assigned_partitions */
	for (int32_t i = 0; i < n_topics && !c.bad; i++) {
		char topic[256];
		int16_t len = (int16_t)cp_int(&c, 2);    /* topic */
		int32_t n;

		if (c.bad || len < 0 || (size_t)len >= sizeof(topic) || c.left < (size_t)len)
			return -1;
		memcpy(topic, c.p, (size_t)len);
		topic[len] = '\0';
		c.p += len;
		c.left -= (size_t)len;
		n = (int32_t)cp_int(&c, 4);              /* partitions */
		for (int32_t k = 0; k < n && !c.bad; k++) {
			int32_t part = (int32_t)cp_int(&c, 4);

			if (!c.bad && !rd_kafka_topic_partition_list_find(parts, topic, part))
				rd_kafka_topic_partition_list_add(parts, topic, part)->opaque =
					m->member_id;
		}
	}
	return c.bad ? -1 : 0;
}

static void groups_print_members(const struct rd_kafka_group_info *gi)
{
	int wid = (int)strlen("MEMBER-ID"), wcl = (int)strlen("CLIENT-ID");

	for (int i = 0; i < gi->member_cnt; i++) {
		int a = (int)strlen(gi->members[i].member_id), b = (int)strlen(gi->members[i].client_id);

		wid = a > wid ? a : wid;
		wcl = b > wcl ? b : wcl;
	}
	printf("\n%-*s  %-*s  %s\n", wid, "MEMBER-ID", wcl, "CLIENT-ID", "HOST");
	for (int i = 0; i < gi->member_cnt; i++)
		printf("%-*s  %-*s  %s\n", wid, gi->members[i].member_id, wcl,
		       gi->members[i].client_id, gi->members[i].client_host);
}

/* A row is printed when the partition is assigned or has a committed offset. */
static bool groups_row(const rd_kafka_topic_partition_t *p)
{
	return p->opaque || p->offset >= 0;
}

static void groups_print_offsets(const struct groups_ctx *ctx, rd_kafka_topic_partition_list_t *parts)
{
	int wt = (int)strlen("TOPIC"), n = 0;

	for (int i = 0; i < parts->cnt; i++) {
		if (!groups_row(&parts->elems[i]))
			continue;
		n++;
		if ((int)strlen(parts->elems[i].topic) > wt)
			wt = (int)strlen(parts->elems[i].topic);
	}
	if (!n) {
		printf("\n(no assigned partitions and no committed offsets)\n");
		return;
	}
	printf("\n%-*s  %-9s  %-14s  %-14s  %-6s  %s\n", wt, "TOPIC", "PARTITION", "CURRENT-OFFSET",
	       "LOG-END-OFFSET", "LAG", "CONSUMER-ID");
	for (int i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &parts->elems[i];
		char cur[24] = "-", end[24] = "-", lag[24] = "-";
		int64_t lo, hi;

		if (!groups_row(p))
			continue;
		if (p->offset >= 0)
			snprintf(cur, sizeof(cur), "%" PRId64, p->offset);
		if (rd_kafka_query_watermark_offsets(ctx->rk, p->topic, p->partition, &lo, &hi,
						     GROUPS_TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(end, sizeof(end), "%" PRId64, hi);
			if (p->offset >= 0)
				snprintf(lag, sizeof(lag), "%" PRId64, hi - p->offset);
		}
		printf("%-*s  %-9" PRId32 "  %-14s  %-14s  %-6s  %s\n", wt, p->topic, p->partition,
		       cur, end, lag, p->opaque ? (const char *)p->opaque : "-");
	}
}

/*
 * The partitions to show: every member's assignment, and every partition
 * of every topic (but __consumer_offsets) for its committed offset, as
 * kafka-consumer-groups.sh shows committed partitions nobody is assigned.
 * @return 0 or -1 (message printed).
 */
static int groups_committed(const struct groups_ctx *ctx, const struct rd_kafka_group_info *gi,
			    rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_resp_err_t err;
	rd_kafka_t *crk;

	for (int i = 0; i < gi->member_cnt; i++)
		if (!strcmp(gi->protocol_type, "consumer") &&
		    groups_add_assignment(parts, &gi->members[i]) < 0)
			fprintf(stderr, "sluice groups: %s: member %s: assignment does not parse\n",
				gi->group, gi->members[i].member_id);
	for (int t = 0; t < ctx->md->topic_cnt; t++) {
		const rd_kafka_metadata_topic_t *mt = &ctx->md->topics[t];

		if (mt->err || !strcmp(mt->topic, "__consumer_offsets"))
			continue;
		for (int k = 0; k < mt->partition_cnt; k++)
			if (!rd_kafka_topic_partition_list_find(parts, mt->topic, mt->partitions[k].id))
				rd_kafka_topic_partition_list_add(parts, mt->topic, mt->partitions[k].id);
	}
	rd_kafka_topic_partition_list_sort(parts, NULL, NULL);
	if (!parts->cnt || !gi->group[0])
		return 0;
	crk = groups_handle(ctx->bootstrap, gi->group);
	if (!crk)
		return -1;
	err = rd_kafka_committed(crk, parts, GROUPS_TIMEOUT_MS);
	rd_kafka_destroy(crk);
	if (err) {
		fprintf(stderr, "sluice groups: %s: committed offsets: %s\n", gi->group,
			rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

static int groups_describe(const struct groups_ctx *ctx, const struct rd_kafka_group_info *gi)
{
	rd_kafka_topic_partition_list_t *parts;
	int rc;

	printf("GROUP %s: state %s, protocol %s%s%s, %d member%s\n", gi->group, gi->state,
	       gi->protocol_type[0] ? gi->protocol_type : "-", gi->protocol[0] ? "/" : "",
	       gi->protocol, gi->member_cnt, gi->member_cnt == 1 ? "" : "s");
	if (gi->err) {
		fprintf(stderr, "sluice groups: %s: %s\n", gi->group, rd_kafka_err2str(gi->err));
		return -1;
	}
	if (gi->member_cnt)
		groups_print_members(gi);
	parts = rd_kafka_topic_partition_list_new(16);
	rc = groups_committed(ctx, gi, parts);
	if (rc == 0)
		groups_print_offsets(ctx, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	return rc;
}

static int groups_info_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct rd_kafka_group_info *const *)a)->group,
		      (*(const struct rd_kafka_group_info *const *)b)->group);
}

/* Describe every group of @list in name order; @return the worst exit code. */
static int groups_describe_list(const struct groups_ctx *ctx, const struct rd_kafka_group_list *list,
				int *shown)
{
	const struct rd_kafka_group_info **v = calloc((size_t)list->group_cnt + 1, sizeof(*v));
	int rc = 0;

	if (!v)
		return 1;
	for (int i = 0; i < list->group_cnt; i++)
		v[i] = &list->groups[i];
	qsort(v, (size_t)list->group_cnt, sizeof(*v), groups_info_cmp);
	for (int i = 0; i < list->group_cnt; i++) {
		if ((*shown)++)
			printf("\n");
		if (groups_describe(ctx, v[i]) < 0)
			rc = 1;
	}
	free(v);
	return rc;
}

static int groups_usage(FILE *out, int rc)
{
	fprintf(out,
		"Usage: sluice groups [-b HOST:PORT] [GROUP...]\n"
		"Ask a running broker (default 127.0.0.1:9092) about its consumer groups, like\n"
		"kafka-consumer-groups.sh --describe: each group's state, protocol and members,\n"
		"then per assigned or committed partition TOPIC PARTITION CURRENT-OFFSET\n"
		"LOG-END-OFFSET LAG CONSUMER-ID.  Without GROUP, every group.\n"
		"Exit 0, 1 if the broker cannot be reached (%d s) or a group does not exist,\n"
		"2 on a usage error.\n", GROUPS_TIMEOUT_MS / 1000);
	return rc;
}

/* List and describe @group (NULL: every group). @return 0, 1 (not found, errors), -1 (no list). */
static int groups_one(const struct groups_ctx *ctx, const char *group, int *shown)
{
	const struct rd_kafka_group_list *list;
	rd_kafka_resp_err_t err;
	int rc;

	err = rd_kafka_list_groups(ctx->rk, group, &list, GROUPS_TIMEOUT_MS);
	if (err) {
		fprintf(stderr, "sluice groups: listing groups at %s: %s\n", ctx->bootstrap,
			rd_kafka_err2str(err));
		return -1;
	}
	if (group && list->group_cnt == 0) {
		fprintf(stderr, "sluice groups: consumer group '%s' does not exist\n", group);
		rc = 1;
	} else {
		rc = groups_describe_list(ctx, list, shown);
	}
	rd_kafka_group_list_destroy(list);
	return rc;
}

static int cmd_groups(int argc, char **argv)
{
	struct groups_ctx ctx = { .bootstrap = "127.0.0.1:9092" };
	rd_kafka_resp_err_t err;
	int first = 1, rc = 0, shown = 0;

	if (wants_help(argc, argv))
		return groups_usage(stdout, 0);
	if (argc >= 2 && (!strcmp(argv[1], "-b") || !strcmp(argv[1], "--bootstrap-server"))) {
		if (argc < 3)
			return groups_usage(stderr, 2);
		ctx.bootstrap = argv[2];
		first = 3;
	}
	for (int i = first; i < argc; i++)
		if (argv[i][0] == '-')
			return groups_usage(stderr, 2);
	ctx.rk = groups_handle(ctx.bootstrap, NULL);
	if (!ctx.rk)
		return 1;
	/* Reaching the broker first gives one clear error instead of one per group. */
	err = rd_kafka_metadata(ctx.rk, 1, NULL, &ctx.md, GROUPS_TIMEOUT_MS);
	if (err) {
		fprintf(stderr, "sluice groups: cannot reach the broker at %s: %s\n", ctx.bootstrap,
			rd_kafka_err2str(err));
		rd_kafka_destroy(ctx.rk);
		return 1;
	}
	if (first == argc)
		rc = groups_one(&ctx, NULL, &shown) ? 1 : 0;
	for (int i = first; i < argc; i++) {
		int r = groups_one(&ctx, argv[i], &shown);

		rc = r ? 1 : rc;
		if (r < 0)
			break;
	}
	if (rc == 0 && !shown)
		printf("no consumer groups\n");
	rd_kafka_metadata_destroy(ctx.md);
	rd_kafka_destroy(ctx.rk);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(argv[1], sluice_cmds[i].name))
			return sluice_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
