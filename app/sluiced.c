/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced - the Sluice appliance daemon.
 *
 * Startup order: configuration (file or the embedded default, then the
 * --override list, then cross-checks; any error exits 2 before anything is
 * touched), data directory, DPDK EAL from the configuration plus the
 * arguments after "--", ports.  The main thread then waits for SIGTERM or
 * SIGINT and tears everything down in reverse order.  Exit codes: 0 clean
 * stop, 1 runtime failure, 2 bad configuration or usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <rte_lcore.h>
#include <rte_log.h>

#include "sluice_build.h"
#include "sluiced_priv.h"
#include "fwc_config.h"
#include "fwc_log.h"
#include "ctl_catalog.h"
#include "ctl_group.h"
#include "ctl_listener.h"
#include "ctl_metrics.h"
#include "ctl_pid.h"
#include "ctl_server.h"
#include "ctl_store.h"
#include "ctl_telemetry.h"
#include "ctl_uplink.h"
#include "kp_api.h"
#include "dp_eal.h"
#include "dp_lcore.h"
#include "dp_port.h"
#include "dp_rules.h"
#include "dp_stats.h"

RTE_LOG_REGISTER(sluiced_logtype, sluice.daemon, INFO);

#define LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, sluiced_logtype, "SLUICED: " fmt "\n", ##__VA_ARGS__)

#define SLUICED_MAX_OVERRIDES 64
#define EXIT_CONFIG 2

struct sluiced_opts {
	const char *config;             /* --config (NULL: embedded default) */
	int check_only;                 /* --check-config */
	int print_config;               /* --print-config */
	int dry_run;                    /* --dry-run: print the EAL line, do not start */
	const char *log_file;           /* --log-file: stdout and stderr go there; SIGHUP reopens */
	int log_syslog;                 /* --log-syslog: the log goes to syslog (facility daemon) */
	bool log_levels_set;            /* --log-level given */
	struct fwc_log_levels log_levels;
	unsigned int n_overrides;
	const char *overrides[SLUICED_MAX_OVERRIDES];
	int eal_argc;                   /* arguments after "--" */
	char **eal_argv;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: sluiced [OPTIONS] [-- EAL-ARGS...]\n"
		"Capture UDP traffic with DPDK into Kafka-format logs and serve them over the\n"
		"Kafka protocol.\n\n"
		"  -c, --config FILE         load FILE (default: the embedded %s)\n"
		"  -o, --override KEY=VALUE  set any configuration key by its dotted name\n"
		"                            (repeatable; e.g. log.retention.ms=60000)\n"
		"      --check-config [FILE] validate the configuration and exit (0 ok, 2 bad)\n"
		"      --print-config        print the effective configuration as YAML and exit\n"
		"      --dry-run             validate, print the EAL command line and exit\n"
		"      --log-file FILE       write the log to FILE (appending); SIGHUP reopens it\n"
		"                            (log rotation); default: standard error\n"
		"      --log-syslog          send the log to syslog (facility daemon) instead\n"
		"      --log-level SPEC      LEVEL for every module and/or MODULE=LEVEL, comma-\n"
		"                            separated (modules: daemon, control, storage,\n"
		"                            dataplane; levels: err, warning, notice, info,\n"
		"                            debug...), e.g. storage=debug,dataplane=warn\n"
		"  -h, --help                this text\n"
		"  -V, --version             print the version\n\n"
		"Arguments after \"--\" are passed to DPDK's EAL after those of the\n"
		"configuration (dataplane.eal), e.g. \"-- --no-huge -m 256\".\n"
		"See docs/configuration.md for every key.\n",
		FWC_DEFAULT_NAME);
}

/* @return 0 to go on, 1 to exit 0 (help/version), -1 on a usage error. */
static int parse_args(int argc, char **argv, struct sluiced_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "override", required_argument, NULL, 'o' },
		{ "check-config", optional_argument, NULL, 'k' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "log-syslog", no_argument, NULL, 'S' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'o':
			if (o->n_overrides == SLUICED_MAX_OVERRIDES) {
				fprintf(stderr, "sluiced: more than %d --override\n",
					SLUICED_MAX_OVERRIDES);
				return -1;
			}
			o->overrides[o->n_overrides++] = optarg;
			break;
		case 'k':
			o->check_only = 1;
			/* Accept both --check-config=FILE and --check-config FILE. */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			if (optarg)
				o->config = optarg;
			break;
		case 'p':
			o->print_config = 1;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case 'l':
			o->log_file = optarg;
			break;
		case 'S':
			o->log_syslog = 1;
			break;
		case 'L': {
			char err[256];

			if (fwc_log_levels_parse(optarg, &o->log_levels, err, sizeof(err)) < 0) {
				fprintf(stderr, "sluiced: --log-level %s: %s\n", optarg, err);
				return -1;
			}
			o->log_levels_set = true;
			break;
		}
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("sluiced %s\n", SLUICE_VERSION);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (o->log_file && o->log_syslog) {
		fprintf(stderr, "sluiced: --log-file and --log-syslog: choose one\n");
		return -1;
	}
	/* getopt_long stops at "--"; everything after it belongs to EAL. */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "sluiced: unexpected argument '%s' (EAL arguments go after --)\n",
			argv[optind]);
		return -1;
	}
	o->eal_argc = argc - optind;
	o->eal_argv = argv + optind;
	return 0;
}

/* Load, override, validate.  Every error is printed; @return 0 or -EINVAL. */
static int load_config(const struct sluiced_opts *o, struct fwc_config *cfg)
{
	struct fwc_diag diag = { 0 };
	int rc;

	rc = o->config ? fwc_config_load(cfg, o->config, &diag)
		       : fwc_config_load_default(cfg, &diag);
	for (unsigned int i = 0; i < o->n_overrides; i++)
		fwc_config_override(cfg, o->overrides[i], i + 1, &diag);
	/* Validate whatever loaded, so one run reports every error. */
	if (rc != -ENOENT && rc != -EACCES)
		fwc_config_validate(cfg, 0, &diag);
	if (diag.n_errors) {
		fprintf(stderr, "sluiced: %u error%s in the configuration\n", diag.n_errors,
			diag.n_errors == 1 ? "" : "s");
		return -EINVAL;
	}
	return rc;
}

static void log_config(const struct fwc_config *cfg)
{
	const struct fwc_broker *b = &cfg->broker;

	LOG(INFO, "sluiced %s: config %s", SLUICE_VERSION, cfg->path[0] ? cfg->path : FWC_DEFAULT_NAME);
	for (unsigned int i = 0; i < b->n_listeners; i++)
		LOG(INFO, "listener %s", b->listeners[i]);
	LOG(INFO, "log.dirs %s, metrics.listener %s", b->log_dirs,
	    b->metrics_listener[0] ? b->metrics_listener : "(off)");
	for (unsigned int i = 0; i < cfg->dataplane.n_ports; i++)
		LOG(INFO, "port %s: %s, %u rx queue(s)", cfg->dataplane.ports[i].name,
		    cfg->dataplane.ports[i].device, cfg->dataplane.ports[i].rx_queues);
	for (unsigned int i = 0; i < cfg->n_topics; i++) {
		const struct fwc_topic *t = &cfg->topics[i];

		LOG(INFO, "topic %s: %d partition(s), %u rule(s)", t->name, t->partitions,
		    t->n_rules);
		for (unsigned int r = 0; r < t->n_rules; r++)
			LOG(INFO, "  rule: udp port %u -> %s", t->rules[r].udp_port,
			    t->rules[r].mode == FWC_MODE_TAP ? "tap" : "produce");
	}
}

/* mkdir -p for log.dirs. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* An SSL listener needs a certificate and key; client auth needs CAs. */
static int check_ssl_keys(const struct fwc_broker *b, const struct ctl_listener *l)
{
	const char *missing = !b->ssl_certificate_location[0] ? "ssl.certificate.location"
			      : !b->ssl_key_location[0]        ? "ssl.key.location"
			      : b->ssl_client_auth != FWC_SSL_CLIENT_AUTH_NONE && !b->ssl_ca_location[0]
				      ? "ssl.ca.location"
				      : NULL;

	if (!missing)
		return 0;
	fprintf(stderr, "sluiced: listeners: '%s://%s:%u' is SSL but %s is not set\n", l->name,
		l->host, l->port, missing);
	return -EINVAL;
}

static int check_listeners(const struct fwc_config *cfg)
{
	struct ctl_listener l;
	int rc;

	for (unsigned int i = 0; i < cfg->broker.n_listeners; i++) {
		rc = ctl_listener_parse(cfg->broker.listeners[i],
					cfg->broker.listener_security_protocol_map, &l);
		if (rc < 0) {
			fprintf(stderr, "sluiced: listeners: '%s': %s\n", cfg->broker.listeners[i],
				"expected NAME://host:port");
			return rc;
		}
		if ((rc = sluiced_check_insecure(&cfg->broker, &l, cfg->broker.listeners[i])) < 0)
			return rc;
		if ((l.security == CTL_SEC_SSL || l.security == CTL_SEC_SASL_SSL) &&
		    (rc = check_ssl_keys(&cfg->broker, &l)) < 0)
			return rc;
		if ((l.security == CTL_SEC_SASL_PLAINTEXT || l.security == CTL_SEC_SASL_SSL) &&
		    !cfg->broker.sasl_credentials_location[0]) {
			fprintf(stderr, "sluiced: listeners: '%s' is SASL but "
				"sasl.credentials.location is not set\n", cfg->broker.listeners[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* dp_topic_parts_fn over the catalog: the lcores find their partitions here. */
static int32_t catalog_topic_parts(void *arg, const char *topic, struct st_partition **out,
				   int32_t max)
{
	const struct ctl_topic *t = ctl_catalog_find(arg, topic, strlen(topic));

	if (t == NULL)
		return 0;
	for (int32_t i = 0; i < t->n_partitions && i < max; i++)
		out[i] = ctl_store_partition(&t->partitions[i]);
	return t->n_partitions;
}

/*
 * The dataplane, once the catalog has opened every partition: traffic
 * rules, one context per lcore (its queues, the partitions it owns), then
 * the poll loops.  @return 0 or -errno (logged); nothing left running.
 */
static int dataplane_start(const struct fwc_config *cfg, const struct dp_ports *ports,
			   struct ctl_catalog *cat, struct dp_rules **rules,
			   struct dp_lcores **lcores)
{
	struct dp_lcores_params lp = { .cfg = cfg, .ports = ports,
				       .topic_parts = catalog_topic_parts, .topic_parts_arg = cat };
	int rc;

	if ((rc = dp_rules_create(cfg, (int)rte_socket_id(), rules)) < 0) {
		LOG(ERR, "traffic rules: %s", strerror(-rc));
		return rc;
	}
	lp.rules = *rules;
	if ((rc = dp_lcores_create(&lp, lcores)) < 0 || (rc = dp_lcores_launch(*lcores)) < 0) {
		LOG(ERR, "dataplane lcores: %s", strerror(-rc));
		dp_lcores_free(*lcores);
		dp_rules_free(*rules);
		*lcores = NULL;
		*rules = NULL;
		return rc;
	}
	LOG(INFO, "dataplane: %u lcore(s) polling", dp_lcores_count(*lcores));
	return 0;
}

/* Stop the poll loops (open tap batches sealed) and log the final counters. */
static void dataplane_stop(struct dp_lcores *lcores)
{
	struct dp_stats st;
	char line[2048];

	if (lcores == NULL)
		return;
	dp_lcores_stop(lcores);
	dp_stats_read(lcores, &st);
	dp_stats_format(&st, line, sizeof(line));
	LOG(INFO, "%s", line);
}

/*
 * The metrics endpoint.  A failure (usually the port taken) is logged and
 * the appliance runs on without it: capture matters more than its counters.
 */
static struct ctl_metrics *metrics_start(const struct fwc_config *cfg, struct ctl_server *srv,
					 const struct ctl_catalog *cat,
					 const struct ctl_store *store,
					 const struct dp_lcores *lcores,
					 const struct ctl_groups *groups,
					 const struct ctl_uplinks *uplinks)
{
	struct ctl_metrics_params mp = { .listener = cfg->broker.metrics_listener, .srv = srv,
					 .cat = cat, .store = store, .lcores = lcores,
					 .groups = groups, .uplinks = uplinks, .eal = true };
	struct ctl_metrics *m = NULL;
	int rc = ctl_metrics_create(&mp, &m);

	if (rc < 0)
		LOG(ERR, "metrics.listener %s: %s: no metrics endpoint", mp.listener,
		    strerror(-rc));
	return m;
}

/*
 * --log-file: point standard output and standard error (where rte_log and
 * every other line of the daemon go) at @path, opened for appending.  Called
 * at start and on SIGHUP, so that a rotated file (renamed away) is replaced
 * by a new one at @path.  @return 0 or -errno (the old file stays in use).
 */
static int log_reopen(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	int rc = 0;

	if (fd < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * --log-level: rte_log levels of the "sluice.<module>" log types (rte_log
 * numbers them from 1 = emerg: syslog's + 1).  The global level first, so
 * that a module's own wins.
 */
static void log_levels_apply(const struct sluiced_opts *o)
{
	char pattern[64];

	if (!o->log_levels_set)
		return;
	if (o->log_levels.global >= 0)
		rte_log_set_level_pattern("sluice.*", (uint32_t)o->log_levels.global + 1);
	for (int m = 0; m < FWC_LOG_MODULES; m++) {
		if (o->log_levels.module[m] < 0)
			continue;
		snprintf(pattern, sizeof(pattern), "sluice.%s", fwc_log_module_name(m));
		rte_log_set_level_pattern(pattern, (uint32_t)o->log_levels.module[m] + 1);
	}
}

/* --log-syslog: rte_log's stream, each line to syslog at the line's own level. */
static ssize_t syslog_write(void *cookie, const char *buf, size_t len)
{
	int level = rte_log_cur_msg_loglevel();
	size_t n = len;

	(void)cookie;
	while (n && buf[n - 1] == '\n')
		n--;
	if (n)
		syslog(level >= 1 && level <= 8 ? level - 1 : LOG_INFO, "%.*s", (int)n, buf);
	return (ssize_t)len;
}

static int log_syslog_open(void)
{
	cookie_io_functions_t io = { .write = syslog_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOLBF, 0);
	openlog("sluiced", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return rte_openlog_stream(f) < 0 ? -EINVAL : 0;
}

/* SIGHUP on the control loop: reopen the log file. */
static void on_hup(void *arg)
{
	const char *path = arg;
	int rc;

	if (!path) {
		LOG(INFO, "SIGHUP: no --log-file to reopen");
		return;
	}
	rc = log_reopen(path);
	if (rc < 0)
		LOG(ERR, "SIGHUP: reopening %s: %s; still writing to the old file", path, strerror(-rc));
	else
		LOG(INFO, "SIGHUP: log file %s reopened", path);
}

/*
 * The /sluice/... commands on DPDK's telemetry socket.  Like the metrics
 * endpoint, a failure is logged and the appliance runs on without them.
 */
static struct ctl_telemetry *telemetry_start(const struct fwc_config *cfg, struct ctl_server *srv,
					     const struct ctl_catalog *cat,
					     const struct ctl_store *store,
					     const struct dp_lcores *lcores,
					     const struct ctl_groups *groups)
{
	struct ctl_metrics_params mp = { .srv = srv, .cat = cat, .store = store, .lcores = lcores,
					 .groups = groups, .eal = true };
	struct ctl_telemetry *t = NULL;
	int rc = ctl_telemetry_start(cfg, &mp, &t);

	if (rc < 0)
		LOG(ERR, "telemetry commands: %s: no /sluice commands", strerror(-rc));
	return t;
}

/* Port links, once a second on the control loop: a line per change. */
struct link_watch {
	struct ctl_timer timer;
	struct ctl_server *srv;
	struct dp_ports *ports;
};

static void link_watch_fn(void *arg, struct ctl_timer *t)
{
	struct link_watch *lw = arg;

	dp_ports_link_check(lw->ports);
	ctl_timer_arm(lw->srv, t, 1000);
}

/* Runs the appliance until SIGTERM/SIGINT. */
static int run(const struct sluiced_opts *o, const struct fwc_config *cfg)
{
	struct ctl_server_params sp = { .broker = &cfg->broker, .dispatch = kp_api_serve,
					.handle_signals = true, .on_hup = on_hup,
					.hup_arg = (void *)o->log_file };
	struct ctl_catalog *cat = NULL;
	struct ctl_server *srv = NULL;
	struct ctl_store *store = NULL;
	struct ctl_metrics *metrics = NULL;
	struct ctl_telemetry *telemetry = NULL;
	struct ctl_uplinks *uplinks = NULL;
	struct dp_lcores *lcores = NULL;
	struct dp_rules *rules = NULL;
	struct kp_api_ctx api = { .data = NULL };
	struct dp_eal_args eal;
	struct dp_ports ports;
	struct link_watch lw = { .ports = &ports };
	sigset_t stop;
	int sig, rc;

	/*
	 * Block the stop signals before EAL creates its threads, so that they
	 * inherit the mask and only the control loop's signalfd takes the signal.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	/*
	 * A peer that went away makes a write to its socket fail with EPIPE; as a
	 * signal that would end the daemon.  The control loop blocks it on its own
	 * thread; ignoring it covers every other thread (metrics, EAL) as well.
	 */
	signal(SIGPIPE, SIG_IGN);

	log_config(cfg);
	if ((rc = make_dirs(cfg->broker.log_dirs)) < 0) {
		LOG(ERR, "log.dirs %s: %s", cfg->broker.log_dirs, strerror(-rc));
		return 1;
	}
	if ((rc = dp_eal_args_build(cfg, o->eal_argc, o->eal_argv, &eal)) < 0) {
		LOG(ERR, "EAL arguments: %s", strerror(-rc));
		return 1;
	}
	fputs("SLUICED: EAL:", stderr);
	for (int i = 1; i < eal.argc; i++)
		fprintf(stderr, " %s", eal.argv[i]);
	fputc('\n', stderr);
	if (dp_eal_init(&eal) < 0)
		return 1;
	log_levels_apply(o);        /* after EAL: they win over dataplane.eal's --log-level */
	if (dp_ports_start(cfg, &ports) < 0) {
		dp_eal_fini();
		return 1;
	}
	if (sluiced_drop_privileges(&cfg->control, cfg->broker.log_dirs) < 0) {
		dp_ports_stop(&ports);
		dp_eal_fini();
		return 1;
	}
	/*
	 * This thread is the control thread from here on: storage (log.dirs,
	 * writer threads), the catalog (which opens every partition), producer
	 * ids (a corrupt <log.dirs>/producer-id-block stops the start: ids
	 * would be reused), then the Kafka server.
	 */
	sp.dispatch_arg = &api;
	if ((rc = ctl_store_create(cfg, &store)) < 0 ||
	    (rc = ctl_catalog_create(cfg, ctl_store_catalog_ops(), store, &cat)) < 0 ||
	    (rc = ctl_store_opened(store)) < 0 ||
	    (rc = kp_api_ctx_init(&api, cfg, cat)) < 0 ||
	    (rc = kp_authz_create(&cfg->broker, &api.authz)) < 0 ||
	    (rc = ctl_pids_open(cfg->broker.log_dirs, &api.pids)) < 0 ||
	    (rc = kp_data_create(store, &api.data)) < 0 ||
	    (rc = ctl_groups_create(cat, cfg, &api.groups)) < 0 ||
	    (rc = ctl_server_create(&sp, &srv)) < 0 ||
	    (rc = ctl_groups_start(api.groups, srv)) < 0 ||
	    (rc = ctl_uplinks_create(cfg, cat, api.groups, &uplinks)) < 0 ||
	    (rc = dataplane_start(cfg, &ports, cat, &rules, &lcores)) < 0) {
		LOG(ERR, "control plane: %s", strerror(-rc));
		ctl_server_destroy(srv);
		ctl_groups_destroy(api.groups);
		ctl_uplinks_destroy(uplinks);
		kp_data_destroy(api.data);
		kp_authz_destroy(api.authz);
		ctl_pids_close(api.pids);
		ctl_catalog_destroy(cat);
		ctl_store_destroy(store);
		dp_ports_stop(&ports);
		dp_eal_fini();
		return 1;
	}
	sig = ctl_store_set_server(store, srv);
	if (sig == 0 && (sig = ctl_uplinks_start(uplinks, srv)) < 0)
		LOG(ERR, "uplink threads: %s", strerror(-sig));
	if (sig == 0) {
		metrics = metrics_start(cfg, srv, cat, store, lcores, api.groups, uplinks);
		telemetry = telemetry_start(cfg, srv, cat, store, lcores, api.groups);
		lw.srv = srv;
		ctl_timer_init(&lw.timer, link_watch_fn, &lw);
		link_watch_fn(&lw, &lw.timer);
		LOG(INFO, "running; SIGTERM or SIGINT stops");
		sig = ctl_server_run(srv);
	}
	if (sig < 0)
		LOG(ERR, "control loop: %s", strerror(-sig));
	else
		LOG(INFO, "%s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	ctl_telemetry_stop(telemetry); /* before anything it reads goes away */
	ctl_metrics_destroy(metrics);
	ctl_uplinks_stop(uplinks); /* before the server: no more cursor posts */
	dataplane_stop(lcores);    /* lcores joined: tap batches sealed into the rings */
	/*
	 * Writers still run (ctl_store_destroy stops them) and still signal
	 * the store's notifier, which outlives them: the server only stops
	 * watching it.
	 */
	ctl_store_set_server(store, NULL);
	ctl_server_destroy(srv);
	ctl_groups_destroy(api.groups); /* after the server: parked responses are gone */
	ctl_uplinks_destroy(uplinks); /* after the groups: no commit callback left */
	kp_data_destroy(api.data); /* after the server: waiting responses are gone */
	kp_authz_destroy(api.authz);
	ctl_pids_close(api.pids);
	dp_lcores_free(lcores);
	dp_rules_free(rules);
	ctl_catalog_destroy(cat);  /* partitions written out, synced, closed */
	ctl_store_destroy(store);  /* writers stopped, clean-shutdown marker */
	dp_ports_stop(&ports);
	dp_eal_fini();
	if (sig < 0)
		return 1;
	LOG(INFO, "stopped cleanly");
	return 0;
}

int main(int argc, char **argv)
{
	static struct fwc_config cfg; /* large: keep it off the stack */
	struct sluiced_opts o = { 0 };
	int rc;

	/* Logs go to stdout (DPDK's log stream); keep them line by line in files too. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : EXIT_CONFIG;
	if (load_config(&o, &cfg) < 0 || check_listeners(&cfg) < 0)
		return EXIT_CONFIG;
	if (o.check_only) {
		printf("%s: OK\n", cfg.path[0] ? cfg.path : FWC_DEFAULT_NAME);
		return 0;
	}
	if (o.print_config) {
		fwc_config_dump(&cfg, stdout);
		return 0;
	}
	if (sluiced_eal_for_user(&cfg, &o.eal_argc, &o.eal_argv) < 0)
		return 1;
	if (o.dry_run) {
		struct dp_eal_args eal;

		if (dp_eal_args_build(&cfg, o.eal_argc, o.eal_argv, &eal) < 0)
			return 1;
		dp_eal_args_print(&eal, stdout);
		return 0;
	}
	if (o.log_syslog && (rc = log_syslog_open()) < 0) {
		fprintf(stderr, "sluiced: --log-syslog: %s\n", strerror(-rc));
		return 1;
	}
	if (o.log_file && (rc = log_reopen(o.log_file)) < 0) {
		fprintf(stderr, "sluiced: --log-file %s: %s\n", o.log_file, strerror(-rc));
		return 1;
	}
	return run(&o, &cfg);
}
