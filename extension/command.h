/*-------------------------------------------------------------------------
 *
 * command.h
 *	  es_execute (the command bus with its decider loop) and
 *	  es_get_command (runtime layer with its SQL entry points).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_COMMAND_H
#define ES_COMMAND_H

#include "postgres.h"

#include "append.h"
#include "utils/jsonb.h"

/* GUC es_saas.command_retries */
extern int es_command_retries;

/* Define es_saas.command_retries; from _PG_init. */
extern void es_command_init(void);

/* The es_execute result document of an append */
extern Jsonb *es_append_result_json(const char *stream, EsEventInput *events,
									int nevents, EsAppendResult *r);

#endif /* ES_COMMAND_H */
