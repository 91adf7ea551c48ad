/*-------------------------------------------------------------------------
 *
 * es_saas.c
 *	  Module entry point: GUC definitions.
 *
 * Appends, reads, es_execute and es_query work without
 * shared_preload_libraries; the library is loaded on first use.  Limits
 * are PGC_SUSET so that a client cannot raise its own quota.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "es_saas.h"
#include "fmgr.h"
#include "utils/guc.h"

#include <limits.h>

PG_MODULE_MAGIC;

int			es_max_batch_events = 1000;
int			es_max_event_bytes = 1024 * 1024;
int			es_max_read_count = 10000;
int			es_max_json_depth = 100;
bool		es_notify = false;
char	   *es_tenant_setting = NULL;

void		_PG_init(void);

/* Define the es_saas.* GUCs and reserve the prefix. */
void
_PG_init(void)
{
	DefineCustomIntVariable("es_saas.max_batch_events",
							"Maximum number of events in one append.",
							"Larger batches are refused with ES429.",
							&es_max_batch_events,
							1000, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_event_bytes",
							"Maximum size of one event: data plus metadata as JSON text.",
							"Larger events are refused with ES429.",
							&es_max_event_bytes,
							1024 * 1024, 64, 256 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_read_count",
							"Cap on max_count of the read functions.",
							"A larger max_count is clamped to this value.",
							&es_max_read_count,
							10000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_json_depth",
							"Maximum nesting depth of event data and metadata.",
							"Deeper documents are refused with ES422.",
							&es_max_json_depth,
							100, 2, 10000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("es_saas.notify",
							 "Send NOTIFY es_saas_events (empty payload) on every append.",
							 "Off by default: NOTIFY serializes committing transactions.",
							 &es_notify,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("es_saas.tenant",
							   "Tenant established for row-level security in this transaction.",
							   "Only honoured when the current role may act for the tenant.",
							   &es_tenant_setting,
							   NULL,
							   PGC_USERSET, 0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("es_saas");
}
