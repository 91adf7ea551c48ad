/*-------------------------------------------------------------------------
 *
 * query.h
 *	  es_query: the query side (runtime layer with its SQL entry point).
 *
 * Built-in types "stream", "log", "category" (the scans of read.h),
 * "state" (state.h, optionally temporal), "projection" (a read-model
 * document, docs.h); other types call registered query functions as the
 * caller in the tenant's RLS context.  Declared by PG_FUNCTION_INFO_V1:
 * nothing is exported.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_QUERY_H
#define ES_QUERY_H

#include "postgres.h"

#endif /* ES_QUERY_H */
