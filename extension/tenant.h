/*-------------------------------------------------------------------------
 *
 * tenant.h
 *	  Tenant lifecycle and grants (access layer), the RLS tenant function
 *	  current_tenant() and the immutability trigger of the event table.
 *
 * SQL entry points only (es_create_tenant, es_get_tenant, es_list_tenants,
 * es_suspend_tenant, es_resume_tenant, es_delete_tenant, es_grant_tenant,
 * es_revoke_tenant, es_current_tenant, es_events_immutable), declared by
 * PG_FUNCTION_INFO_V1 and called through the fmgr.  Suspend and delete
 * take the tenant state lock exclusively (locks.h); delete is the only
 * path past the immutability trigger.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_TENANT_H
#define ES_TENANT_H

#include "postgres.h"

#endif /* ES_TENANT_H */
