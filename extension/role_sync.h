/*-------------------------------------------------------------------------
 *
 * role_sync.h
 *	  Keeps tenant grants, stored by role name, in step with the roles
 *	  (access layer).
 *
 * A name is what pg_dump/pg_restore carry and what every node of a
 * cluster agrees on; an oid is neither.  But a name can outlive its role,
 * so:
 *	- every role holding a grant in a database has one shared dependency
 *	  (pg_shdepend, ACL kind, on column tenant_grants.role), kept by the
 *	  tenant_grants_sync trigger: DROP ROLE is refused while the role holds
 *	  a grant anywhere, as for table privileges, and a later role of the
 *	  same name can never inherit a grant;
 *	- while es_saas is loaded in a backend (always, when preloaded), a
 *	  utility hook makes grants follow ALTER ROLE ... RENAME and makes
 *	  DROP OWNED BY revoke them, in the current database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_ROLE_SYNC_H
#define ES_ROLE_SYNC_H

#include "postgres.h"

/* Install the utility hook; from _PG_init. */
extern void es_role_sync_init(void);

#endif /* ES_ROLE_SYNC_H */
