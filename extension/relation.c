/*-------------------------------------------------------------------------
 *
 * relation.c
 *	  Oids of the extension's relations, looked up once per backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "relation.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

static const char *const relnames[ES_REL_COUNT] = {
	[ES_REL_EVENTS] = "events",
	[ES_REL_EVENTS_PKEY] = "events_pkey",
	[ES_REL_EVENTS_STREAM_VERSION] = "events_stream_version_key",
	[ES_REL_EVENTS_CATEGORY] = "events_category_idx",
	[ES_REL_TENANTS] = "tenants",
	[ES_REL_TENANTS_PKEY] = "tenants_pkey",
	[ES_REL_TENANT_GRANTS] = "tenant_grants",
	[ES_REL_TENANT_GRANTS_PKEY] = "tenant_grants_pkey",
	[ES_REL_PROJECTIONS] = "projections",
};

/*
 * Every append opens several relations: their oids are cached.  Emptied
 * by any relcache invalidation of a cached relation (DROP EXTENSION) or
 * of everything.
 */
static Oid	relid_cache[ES_REL_COUNT];
static bool relid_callback_registered = false;

static void
relid_cache_inval(Datum arg, Oid relid)
{
	for (int i = 0; i < ES_REL_COUNT; i++)
		if (relid == InvalidOid || relid_cache[i] == relid)
		{
			memset(relid_cache, 0, sizeof(relid_cache));
			return;
		}
}

Oid
es_relid(EsRel rel)
{
	Oid nsp;
	Oid relid;

	Assert(rel >= 0 && rel < ES_REL_COUNT);
	if (OidIsValid(relid_cache[rel]))
		return relid_cache[rel];

	nsp = get_namespace_oid(ES_SCHEMA, false);
	relid = get_relname_relid(relnames[rel], nsp);
	if (!OidIsValid(relid))
		elog(ERROR, "relation \"%s.%s\" of extension es_saas does not exist",
			 ES_SCHEMA, relnames[rel]);

	if (!relid_callback_registered)
	{
		CacheRegisterRelcacheCallback(relid_cache_inval, (Datum) 0);
		relid_callback_registered = true;
	}
	relid_cache[rel] = relid;
	return relid;
}

const char *
es_relname(EsRel rel)
{
	return relnames[rel];
}

bool
es_relation_exists(const char *relname)
{
	Oid nsp = get_namespace_oid(ES_SCHEMA, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid(relname, nsp));
}
