/*-------------------------------------------------------------------------
 *
 * access.c
 *	  Tenant access checks used by every es_* function (access layer).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "errors.h"
#include "executor/tuptable.h"
#include "indexscan.h"
#include "locks.h"
#include "miscadmin.h"
#include "relation.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "validate.h"

char *es_tenant_setting = NULL;

void
es_access_init(void)
{
	DefineCustomStringVariable("es_saas.tenant",
							   "Tenant established for row-level security in this transaction.",
							   "Only honoured when the current role may act for the tenant.",
							   &es_tenant_setting, NULL, PGC_USERSET, 0, NULL,
							   NULL, NULL);
}

static bool
role_has_privs_of(Oid roleid, const char *rolname)
{
	Oid target = get_role_oid(rolname, true);

	return OidIsValid(target) && has_privs_of_role(roleid, target);
}

bool
es_role_is_admin(Oid roleid)
{
	return superuser_arg(roleid) || role_has_privs_of(roleid, ES_ADMIN_ROLE);
}

bool
es_role_is_gateway(Oid roleid)
{
	return role_has_privs_of(roleid, ES_GATEWAY_ROLE);
}

bool
es_grants_by_name(void)
{
	Oid relid = es_relid(ES_REL_TENANT_GRANTS);

	return get_atttype(relid, get_attnum(relid, "role")) == NAMEOID;
}

/*
 * Was roleid (directly or through membership) granted tenant?  A probe of
 * tenant_grants_pkey, no SPI: row-level security calls this through
 * current_tenant().  Grants name their role; a name without a role
 * matches nobody (role_sync.h keeps names and roles in step).
 */
bool
es_role_has_grant(Oid roleid, const char *tenant)
{
	Relation heap = table_open(es_relid(ES_REL_TENANT_GRANTS), AccessShareLock);
	Relation pkey = index_open(es_relid(ES_REL_TENANT_GRANTS_PKEY), AccessShareLock);
	AttrNumber		roleatt = pkey->rd_index->indkey.values[1];
	Snapshot		snapshot = RegisterSnapshot(GetTransactionSnapshot());
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc	scan;
	ScanKeyData		key;
	bool			granted = false;
	bool			by_name = es_grants_by_name();

	es_init_text_key(&key, 1, pkey, tenant);
	scan = index_beginscan(heap, pkey, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (!granted && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool  isnull;
		Datum role = slot_getattr(slot, roleatt, &isnull);
		Oid	  granted_role;

		if (isnull)
			continue;
		/* a dropped role's oid, like a name without a role, matches nobody */
		granted_role = by_name ? get_role_oid(NameStr(*DatumGetName(role)), true)
							   : DatumGetObjectId(role);
		granted = OidIsValid(granted_role) && has_privs_of_role(roleid, granted_role);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	index_close(pkey, AccessShareLock);
	table_close(heap, AccessShareLock);
	return granted;
}

/* ES403 unless the caller is an administrator (or the gateway, if allowed). */
void
es_require_admin(EsCall *call, bool gateway_allowed)
{
	if (es_role_is_admin(call->caller))
		return;
	if (gateway_allowed && es_role_is_gateway(call->caller))
		return;
	es_raise_forbidden("admin_required",
					   es_fact_str(es_facts(), "required_role", ES_ADMIN_ROLE),
					   "permission denied: only es_saas administrators may do this");
}

/*
 * Backend-local cache of tenant status, so that an append does not query
 * es_saas.tenants each time.  Every change of a tenant row sends a
 * relcache invalidation of es_saas.tenants (es_tenants_changed), which
 * empties the cache; writers process pending invalidations right after
 * taking the tenant state lock, so they never act on a stale status.
 *
 * A connection that keeps meeting tenants it has not seen (a gateway pool
 * in front of thousands of tenants) would otherwise probe es_saas.tenants
 * for each of them; after TENANT_BULK_AFTER misses it loads every
 * tenant's status in one scan instead.  That is as safe as caching one
 * status: the scan uses a snapshot taken after pending invalidations were
 * processed, and any change committed later sends an invalidation that
 * empties the cache before a writer can act on it (the generation check
 * drops a load that an invalidation overtook).
 */
#define TENANT_CACHE_MAX  16384
#define TENANT_BULK_AFTER 64
typedef struct TenantCacheEntry
{
	char tenant[ES_MAX_TENANT_LEN + 1];
	bool active;
} TenantCacheEntry;

static HTAB	 *tenant_cache = NULL;
static Oid	  tenants_relid = InvalidOid;
static bool	  tenant_callback_registered = false;
static uint64 tenant_cache_generation = 0; /* bumped by every invalidation */
static int	  tenant_cache_misses = 0;
static bool tenant_bulk_too_many = false; /* more tenants than the cache holds
										   */

static void
tenant_cache_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == tenants_relid)
	{
		tenant_cache_generation++;
		if (tenant_cache != NULL)
		{
			hash_destroy(tenant_cache);
			tenant_cache = NULL;
		}
	}
}

static HTAB *
new_tenant_cache(void)
{
	HASHCTL ctl;

	if (!tenant_callback_registered)
	{
		CacheRegisterRelcacheCallback(tenant_cache_inval, (Datum) 0);
		tenant_callback_registered = true;
	}
	tenants_relid = es_relid(ES_REL_TENANTS);
	ctl.keysize = ES_MAX_TENANT_LEN + 1;
	ctl.entrysize = sizeof(TenantCacheEntry);
	return hash_create("es_saas tenant status", 64, &ctl, HASH_ELEM | HASH_STRINGS);
}

/* Is tenant's status cached?  Sets *active when it is. */
static bool
cached_status(const char *tenant, bool *active)
{
	TenantCacheEntry *entry;

	if (tenant_cache == NULL)
		return false;
	entry = hash_search(tenant_cache, tenant, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	*active = entry->active;
	return true;
}

static void
cache_status(const char *tenant, bool active)
{
	TenantCacheEntry *entry;

	if (tenant_cache == NULL)
		tenant_cache = new_tenant_cache();
	/* bounded: a backend serving very many tenants just starts over */
	if (hash_get_num_entries(tenant_cache) >= TENANT_CACHE_MAX)
	{
		hash_destroy(tenant_cache);
		tenant_cache = NULL;
		return;
	}
	entry = hash_search(tenant_cache, tenant, HASH_ENTER, NULL);
	entry->active = active;
}

/*
 * Does tenant exist in es_saas.tenants?  Sets *active from its status: as
 * of now for writers (they hold the tenant state lock), as of the
 * transaction snapshot for readers.  A direct primary-key probe: this runs
 * on every cache miss, and fresh connections miss on every tenant.
 */
static bool
read_status(const char *tenant, bool latest, bool *active)
{
	Relation heap = table_open(es_relid(ES_REL_TENANTS), AccessShareLock);
	Relation pkey = index_open(es_relid(ES_REL_TENANTS_PKEY), AccessShareLock);
	Snapshot snapshot =
		RegisterSnapshot(latest ? GetLatestSnapshot() : GetTransactionSnapshot());
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	ScanKeyData		key;
	IndexScanDesc	scan;
	bool			found;

	es_init_text_key(&key, 1, pkey, tenant);
	scan = index_beginscan(heap, pkey, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		bool  isnull;
		Datum value = slot_getattr(slot, Anum_es_tenants_status, &isnull);

		*active = strcmp(TextDatumGetCString(value), "active") == 0;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	/* locks kept to the end of the transaction, as the executor does: a
	 * fresh connection looks every tenant up once, and a release here
	 * would make each lookup acquire them again */
	index_close(pkey, NoLock);
	table_close(heap, NoLock);
	return found;
}

/*
 * Every tenant's status in one scan of es_saas.tenants, as of now, into a
 * fresh cache; nothing when there are more than TENANT_CACHE_MAX tenants
 * or an invalidation arrived meanwhile.
 */
static void
load_all_statuses(void)
{
	Relation heap = table_open(es_relid(ES_REL_TENANTS), AccessShareLock);
	uint64	 generation = tenant_cache_generation; /* after the lock's
													  invalidations */
	Snapshot		snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc	scan = table_beginscan(heap, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	HTAB		   *fresh = new_tenant_cache();
	MemoryContext	rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												   "es_saas tenant status load",
												   ALLOCSET_SMALL_SIZES);
	MemoryContext	oldcxt = MemoryContextSwitchTo(rowcxt);

	while (fresh != NULL && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool  isnull;
		text *id =
			DatumGetTextPP(slot_getattr(slot, Anum_es_tenants_tenant_id, &isnull));
		char *status =
			TextDatumGetCString(slot_getattr(slot, Anum_es_tenants_status, &isnull));
		char			  key[ES_MAX_TENANT_LEN + 1] = {0};
		TenantCacheEntry *entry;

		if (hash_get_num_entries(fresh) >= TENANT_CACHE_MAX ||
			VARSIZE_ANY_EXHDR(id) > ES_MAX_TENANT_LEN)
		{
			tenant_bulk_too_many = true; /* probe one by one from now on */
			hash_destroy(fresh);
			fresh = NULL;
			break;
		}
		memcpy(key, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id));
		entry = hash_search(fresh, key, HASH_ENTER, NULL);
		entry->active = strcmp(status, "active") == 0;
		MemoryContextReset(rowcxt);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(rowcxt);
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	table_close(heap, NoLock);

	if (fresh != NULL && generation != tenant_cache_generation)
	{
		hash_destroy(fresh);
		fresh = NULL;
	}
	if (fresh != NULL)
	{
		if (tenant_cache != NULL)
			hash_destroy(tenant_cache);
		tenant_cache = fresh;
	}
}

/* Tell every backend (at commit) that a tenant row changed. */
void
es_tenants_changed(void)
{
	CacheInvalidateRelcacheByRelid(es_relid(ES_REL_TENANTS));
}

/*
 * Check that the caller may act for tenant, that the tenant exists and,
 * for writes, that it is active.  Writes keep the tenant state lock in
 * share mode until commit, and read the status after taking it.
 */
void
es_check_tenant(EsCall *call, const char *tenant, EsAccessMode mode)
{
	bool active;
	bool cached;

	es_validate_tenant_id(tenant);

	if (!es_role_is_admin(call->caller) && !es_role_is_gateway(call->caller) &&
		!es_role_has_grant(call->caller, tenant))
		es_raise_forbidden("forbidden_tenant",
						   es_fact_str(es_facts(), "tenant", tenant),
						   "permission denied for tenant \"%s\"", tenant);

	if (mode == ES_ACCESS_WRITE)
	{
		es_lock(ES_LOCK_TENANT_STATE, tenant, NULL, 0, ShareLock);
		/* advisory locks do not do this for us: see committed status changes
		 */
		AcceptInvalidationMessages();
	}

	cached = cached_status(tenant, &active);
	if (!cached && !tenant_bulk_too_many && ++tenant_cache_misses >= TENANT_BULK_AFTER)
	{
		tenant_cache_misses = 0;
		load_all_statuses();
		cached = cached_status(tenant, &active);
	}
	if (!cached)
	{
		if (!read_status(tenant, mode == ES_ACCESS_WRITE, &active))
			es_raise_tenant_not_found(tenant);
		cache_status(tenant, active);
	}
	if (mode == ES_ACCESS_WRITE && !active)
		es_raise_tenant_suspended(tenant);
}
