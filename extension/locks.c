/*-------------------------------------------------------------------------
 *
 * locks.c
 *	  Lock tags of (class, tenant, key); see locks.h for the protocol.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "locks.h"
#include "miscadmin.h"

void
es_lock_tag(LOCKTAG *tag, EsLockClass cls, const char *tenant, const char *key, int keylen)
{
	uint32 h1 = hash_bytes((const unsigned char *) tenant, strlen(tenant));
	uint32 h2 = key ? hash_bytes((const unsigned char *) key, keylen) : 0;

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, h1, h2, (uint16) cls);
}

void
es_lock(EsLockClass cls, const char *tenant, const char *key, int keylen, LOCKMODE mode)
{
	LOCKTAG tag;

	es_lock_tag(&tag, cls, tenant, key, keylen);
	(void) LockAcquire(&tag, mode, false, false);
}

void
es_unlock(EsLockClass cls, const char *tenant, const char *key, int keylen, LOCKMODE mode)
{
	LOCKTAG tag;

	es_lock_tag(&tag, cls, tenant, key, keylen);
	LockRelease(&tag, mode, false);
}
