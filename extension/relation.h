/*-------------------------------------------------------------------------
 *
 * relation.h
 *	  The one resolver of the relations (tables and indexes) the extension
 *	  touches, their SQL names and the column numbers read in C.
 *
 * Direct heap/index paths take an oid from es_relid(); SPI text names a
 * table with the ES_SQL_* macro of the same relation.  Both come from
 * here, so a later distributed mode (other schema, a shard, a remote
 * table) changes this file only.  Oids are cached per backend and dropped
 * on relcache invalidation; es_relid() costs no catalog lookup on the
 * append path once warm.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_RELATION_H
#define ES_RELATION_H

#include "postgres.h"

/* Private schema holding the extension's tables */
#define ES_SCHEMA "es_saas"

/* Schema-qualified names for SPI text: every query names tables this way */
#define ES_SQL_EVENTS				  "es_saas.events"
#define ES_SQL_TENANTS				  "es_saas.tenants"
#define ES_SQL_TENANT_GRANTS		  "es_saas.tenant_grants"
#define ES_SQL_COMMANDS				  "es_saas.commands"
#define ES_SQL_SNAPSHOTS			  "es_saas.snapshots"
#define ES_SQL_DOCUMENTS			  "es_saas.documents"
#define ES_SQL_PROJECTIONS			  "es_saas.projections"
#define ES_SQL_PROJECTION_CHECKPOINTS "es_saas.projection_checkpoints"
#define ES_SQL_DEAD_LETTERS			  "es_saas.dead_letters"
#define ES_SQL_AGGREGATES			  "es_saas.aggregates"
#define ES_SQL_COMMAND_HANDLERS		  "es_saas.command_handlers"
#define ES_SQL_QUERY_HANDLERS		  "es_saas.query_handlers"

typedef enum EsRel
{
	ES_REL_EVENTS,
	ES_REL_EVENTS_PKEY,			  /* (tenant_id, position) */
	ES_REL_EVENTS_STREAM_VERSION, /* (tenant_id, stream, version) */
	ES_REL_EVENTS_CATEGORY,		  /* (tenant_id, category, position) */
	ES_REL_TENANTS,
	ES_REL_TENANTS_PKEY, /* (tenant_id) */
	ES_REL_TENANT_GRANTS,
	ES_REL_TENANT_GRANTS_PKEY, /* (tenant_id, role) */
	ES_REL_PROJECTIONS,		   /* 1.1 registry */
	ES_REL_COUNT
} EsRel;

/* Oid of rel; cannot-happen error when the schema is damaged. */
extern Oid es_relid(EsRel rel);

/* Unqualified name of rel (the name es_relid looks up) */
extern const char *es_relname(EsRel rel);

/* Does es_saas.<relname> exist?  (optional tables of later versions) */
extern bool es_relation_exists(const char *relname);

/*
 * Column numbers of es_saas.events; must match the CREATE TABLE in
 * es_saas--1.0.sql.
 */
#define Anum_es_events_tenant_id   1
#define Anum_es_events_position	   2
#define Anum_es_events_stream	   3
#define Anum_es_events_version	   4
#define Anum_es_events_type		   5
#define Anum_es_events_data		   6
#define Anum_es_events_metadata	   7
#define Anum_es_events_id		   8
#define Anum_es_events_recorded_at 9
#define Anum_es_events_category	   10
#define Anum_es_events_batch_size  11
#define Anum_es_events_batch_index 12
#define Natts_es_events			   12

/* Columns of es_saas.tenants read in C */
#define Anum_es_tenants_tenant_id 1
#define Anum_es_tenants_status	  3

#endif /* ES_RELATION_H */
