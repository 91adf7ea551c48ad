/*
 * spool.h - the durable command spool (contract section 5, command_spool).
 *
 * While the event store is unreachable, POST /commands/execute writes the
 * command (tenant, id, stream, body) to ES_SPOOL_DIR, one file per command
 * named by a sequence number, written to a temporary name, fsync'd,
 * renamed and the directory fsync'd before the 202 goes out.  One replay
 * thread applies spooled commands oldest first through an apply callback
 * (es_execute with the command id, so a replay after a crash returns the
 * stored result instead of appending twice), deletes each file once
 * applied, and records commands the database refused (4xx) in failed.log
 * so GET /commands/{id} can tell.  A write or fsync error stops spooling
 * for the process lifetime (an fsync is never retried).  Thread-safe.
 */
#ifndef ES_SPOOL_H
#define ES_SPOOL_H

#include <stddef.h>

#include "errors.h"
#include "util.h"

/* Apply one spooled command; ES_FAIL with err filled (503/504: retry later,
 * anything else: the command is refused for good). */
typedef es_status (*es_spool_apply_fn)(const char *tenant, const char *id,
									   const char *body, es_error *err);

/* Open dir (created if missing), load what a previous process left.
 * ES_FAIL with errbuf set when the directory is unusable. */
es_status es_spool_open(const char *dir, long long max_bytes, int max_commands,
						char *errbuf, size_t errlen) ES_MUSTCHECK;

/* Start / stop the replay thread (stop waits for it). */
es_status es_spool_start(es_spool_apply_fn apply) ES_MUSTCHECK;
void	  es_spool_stop(void);

/* 1 when a spool directory is open and spooling has not been stopped. */
int es_spool_enabled(void);

/* Durably spool one command; 503 unavailable when full or stopped. */
es_status es_spool_put(const char *tenant, const char *id, const char *stream,
					   const char *body, size_t body_len, es_error *err) ES_MUSTCHECK;

/* 1 when tenant's command id waits in the spool. */
int es_spool_pending(const char *tenant, const char *id);

/* 1 when a command of tenant on stream waits (later ones must queue behind
 * it to keep the per-stream order). */
int es_spool_stream_pending(const char *tenant, const char *stream);

/* When the replay refused tenant's command id: 1 with *status and *body
 * (malloc'd error JSON) set; else 0. */
int es_spool_failed(const char *tenant, const char *id, int *status, char **body);

/* es_gateway_spool_* metrics. */
void es_spool_render_metrics(es_buf *out);

#endif
