/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice_cmds.h - subcommands of `sluice` that live in files of their own.
 * Each takes the arguments after the command's name (argv[0] is the name)
 * and returns the process exit code.
 */
#ifndef SLUICE_CMDS_H
#define SLUICE_CMDS_H

/** sluice produce-udp: standard input into UDP produce mode (sluice_produce_udp.c). */
int sluice_cmd_produce_udp(int argc, char **argv);

/** sluice export: tap records back out as pcap, pcapng, raw or JSON (sluice_export.c). */
int sluice_cmd_export(int argc, char **argv);

/** sluice top: a live view of a running sluiced from its metrics endpoint (sluice_top.c). */
int sluice_cmd_top(int argc, char **argv);

/** sluice users: add/delete/list SASL credentials in a file (sluice_users.c). */
int sluice_cmd_users(int argc, char **argv);

/** sluice acls: add/remove/list Kafka ACLs in a file (sluice_acls.c). */
int sluice_cmd_acls(int argc, char **argv);

#endif /* SLUICE_CMDS_H */
