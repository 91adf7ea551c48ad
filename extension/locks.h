/*-------------------------------------------------------------------------
 *
 * locks.h
 *	  The extension's heavyweight locks and their protocol.
 *
 * Lock protocol (all advisory-class tags in this database, field4 tells
 * them apart from user advisory locks, which use 1 and 2):
 *	- tenant state: writers hold ShareLock until commit; suspend and delete
 *	  take ExclusiveLock, so no write lands after they commit.
 *	- stream: ExclusiveLock until commit; serializes appends to one stream
 *	  (expected-version checks) without touching other streams.
 *	- log: ExclusiveLock held only while positions are allocated and the
 *	  rows inserted, never across commit (see positions.c).
 *	- command: ExclusiveLock until commit per (tenant, command id).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_LOCKS_H
#define ES_LOCKS_H

#include "postgres.h"

#include "storage/lock.h"

typedef enum EsLockClass
{
	ES_LOCK_TENANT_STATE = 0x4531,
	ES_LOCK_STREAM = 0x4532,
	ES_LOCK_LOG = 0x4533,
	ES_LOCK_COMMAND = 0x4534
} EsLockClass;

/* Build the advisory-class lock tag of (class, tenant, key). */
extern void es_lock_tag(LOCKTAG *tag, EsLockClass cls, const char *tenant,
						const char *key, int keylen);

/* Take a transaction-level lock on (class, tenant, key). */
extern void es_lock(EsLockClass cls, const char *tenant, const char *key,
					int keylen, LOCKMODE mode);

/* Release a lock taken with es_lock before commit (the log lock). */
extern void es_unlock(EsLockClass cls, const char *tenant, const char *key,
					  int keylen, LOCKMODE mode);

#endif /* ES_LOCKS_H */
