/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  Lookups in the application registry (aggregates, commands, queries,
 *	  projections), runtime layer.  SPI must be connected (es_call_begin).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_REGISTRY_H
#define ES_REGISTRY_H

#include "postgres.h"

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef struct EsAggregate
{
	Oid	   evolve;
	Jsonb *initial_state;
} EsAggregate;

typedef struct EsProjection
{
	char	*name;
	Oid		 handler;
	Oid		 owner;	 /* role that registered it */
	int		 ntypes; /* 0: every event type */
	char   **types;
	bool	 async;
	bool	 stop_on_error;
	FmgrInfo flinfo; /* handler, looked up once per EsProjection */
} EsProjection;

/* false when the relation of the 1.1 registry is not installed */
extern bool es_registry_installed(void);

extern bool es_lookup_aggregate(const char *category, EsAggregate *agg);
extern Oid	es_lookup_command(const char *command_type);
extern Oid	es_lookup_query(const char *query_type);
extern EsProjection *es_lookup_projection(const char *name);
extern bool			 es_projection_wants(EsProjection *proj, const char *type);

/* Inline projections, cached per backend until the registry changes */
extern List *es_inline_projections(void);

/* Async projections, cached with the inline ones */
extern List *es_async_projections(void);

#endif /* ES_REGISTRY_H */
