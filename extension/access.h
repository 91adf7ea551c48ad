/*-------------------------------------------------------------------------
 *
 * access.h
 *	  Who may act for which tenant (access layer: above storage, below the
 *	  runtime).
 *
 * A role acts for a tenant when it is an administrator (superuser or
 * member of es_admin), the gateway (member of es_gateway), or was granted
 * the tenant with es_grant_tenant.  Non-granted roles get ES403 whether
 * or not the tenant exists, so the check is no oracle.
 *
 * The RLS context: es_saas.tenant names the tenant row-level security
 * shows, honoured only for a role that may act for it (current_tenant()).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_ACCESS_H
#define ES_ACCESS_H

#include "postgres.h"

#include "spi_util.h"

/* Roles the extension creates (see README: Roles) */
#define ES_ADMIN_ROLE	"es_admin"
#define ES_GATEWAY_ROLE "es_gateway"

/* GUC es_saas.tenant: the tenant of the RLS context */
extern char *es_tenant_setting;

/* Define es_saas.tenant; from _PG_init. */
extern void es_access_init(void);

typedef enum EsAccessMode
{
	ES_ACCESS_READ, /* tenant must exist */
	ES_ACCESS_WRITE /* ... and be active; takes tenant state lock */
} EsAccessMode;

extern bool es_role_is_admin(Oid roleid);
extern bool es_role_is_gateway(Oid roleid);
extern bool es_role_has_grant(Oid roleid, const char *tenant);

/*
 * Does tenant_grants name its roles (1.2 on), or hold their oids (1.0,
 * 1.1: a newer library serves an older schema until ALTER EXTENSION
 * UPDATE)?
 */
extern bool es_grants_by_name(void);

/* Join condition of pg_roles r to tenant_grants g, for either schema */
#define ES_SQL_GRANT_ROLE_JOIN(by_name)                    \
	((by_name) ? "r.rolname OPERATOR(pg_catalog.=) g.role" \
			   : "r.oid OPERATOR(pg_catalog.=) g.role")

extern void es_require_admin(EsCall *call, bool gateway_allowed);
extern void es_tenants_changed(void);
extern void es_check_tenant(EsCall *call, const char *tenant, EsAccessMode mode);

#endif /* ES_ACCESS_H */
