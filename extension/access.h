/*-------------------------------------------------------------------------
 *
 * access.h
 *	  Who may act for which tenant, and the extension's heavyweight locks.
 *
 * A role acts for a tenant when it is an administrator (superuser or
 * member of es_admin), the gateway (member of es_gateway), or was granted
 * the tenant with es_grant_tenant.  Non-granted roles get ES403 whether
 * or not the tenant exists, so the check is no oracle.
 *
 * Lock protocol (all advisory-class tags in this database, field4 tells
 * them apart from user advisory locks, which use 1 and 2):
 *	- tenant state: writers hold ShareLock until commit; suspend and delete
 *	  take ExclusiveLock, so no write lands after they commit.
 *	- stream: ExclusiveLock until commit; serializes appends to one stream
 *	  (expected-version checks) without touching other streams.
 *	- log: ExclusiveLock held only while positions are allocated and the
 *	  rows inserted, never across commit (see log.c).
 *	- command: ExclusiveLock until commit per (tenant, command id).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_ACCESS_H
#define ES_ACCESS_H

#include "postgres.h"

#include "spi_util.h"
#include "storage/lock.h"

typedef enum EsAccessMode
{
	ES_ACCESS_READ,				/* tenant must exist */
	ES_ACCESS_WRITE				/* ... and be active; takes tenant state lock */
} EsAccessMode;

typedef enum EsLockClass
{
	ES_LOCK_TENANT_STATE = 0x4531,
	ES_LOCK_STREAM = 0x4532,
	ES_LOCK_LOG = 0x4533,
	ES_LOCK_COMMAND = 0x4534
} EsLockClass;

extern bool es_role_is_admin(Oid roleid);
extern bool es_role_is_gateway(Oid roleid);
extern bool es_role_has_grant(Oid roleid, const char *tenant);

extern void es_require_admin(EsCall *call, bool gateway_allowed);
extern void es_tenants_changed(void);
extern void es_check_tenant(EsCall *call, const char *tenant, EsAccessMode mode);

extern void es_lock_tag(LOCKTAG *tag, EsLockClass cls, const char *tenant,
						const char *key, int keylen);
extern void es_lock(EsLockClass cls, const char *tenant, const char *key,
					int keylen, LOCKMODE mode);

#endif							/* ES_ACCESS_H */
