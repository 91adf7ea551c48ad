/*-------------------------------------------------------------------------
 *
 * es_saas.h
 *	  The module entry point (_PG_init) and the map of the extension's
 *	  layers.  Declares nothing else: every other symbol lives in the
 *	  header of the module that defines it.
 *
 * Layers (a module includes only headers of its own layer or below):
 *	  infrastructure  errors, spi_util, relation, locks, indexscan, validate
 *	  storage         positions, position_cache, append, read
 *	  access          access, tenant, role_sync
 *	  runtime         handler, registry, state, command, query, projection,
 *	                  docs, worker
 *	  SQL entry       event_api, register (and the entry points at the
 *	                  bottom of tenant, command, query, projection, docs)
 *
 * Every non-static symbol carries the es_/Es prefix: all extensions share
 * one backend process.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_SAAS_H
#define ES_SAAS_H

#include "postgres.h"

/* Calls each module's es_<module>_init() in layer order */
extern PGDLLEXPORT void _PG_init(void);

#endif /* ES_SAAS_H */
