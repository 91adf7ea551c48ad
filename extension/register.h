/*-------------------------------------------------------------------------
 *
 * register.h
 *	  es_register_aggregate/command/query/projection and es_unregister:
 *	  the registry's SQL entry points, for administrators.
 *
 * Each checks its arguments (ES400/ES422), the handler's signature and
 * the caller (ES403), then upserts the registry row.  Declared by
 * PG_FUNCTION_INFO_V1 and called through the fmgr: nothing is exported.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_REGISTER_H
#define ES_REGISTER_H

#include "postgres.h"

#endif /* ES_REGISTER_H */
