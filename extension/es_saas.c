/*-------------------------------------------------------------------------
 *
 * es_saas.c
 *	  Module entry point: each module's init function, in layer order.
 *
 * Appends, reads, es_execute and es_query work without
 * shared_preload_libraries; the library is loaded on first use.  Only the
 * async projection worker and the position cache need preloading.  Each
 * module defines its own GUCs in its es_<module>_init(); limits are
 * PGC_SUSET so that a client cannot raise its own quota.  The layer map
 * is in es_saas.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "append.h"
#include "command.h"
#include "es_saas.h"
#include "fmgr.h"
#include "position_cache.h"
#include "role_sync.h"
#include "state.h"
#include "utils/guc.h"
#include "validate.h"
#include "worker.h"

PG_MODULE_MAGIC;

void
_PG_init(void)
{
	es_validate_init();
	es_position_cache_init();
	es_append_init();
	es_access_init();
	es_role_sync_init();
	es_state_init();
	es_command_init();
	es_worker_init();
	MarkGUCPrefixReserved("es_saas");
}
