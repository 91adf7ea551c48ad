/*-------------------------------------------------------------------------
 *
 * es_saas.h
 *	  Shared declarations of the es_saas extension.
 *
 * Every non-static symbol carries the es_/Es prefix: all extensions share
 * one backend process.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_SAAS_H
#define ES_SAAS_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

/* Private schema holding the extension's tables */
#define ES_SCHEMA "es_saas"

/* Roles the extension creates (see README: Roles) */
#define ES_ADMIN_ROLE "es_admin"
#define ES_GATEWAY_ROLE "es_gateway"

/* Limits that are not configurable */
#define ES_MAX_TENANT_LEN 63
#define ES_MAX_STREAM_LEN 255
#define ES_MAX_TYPE_LEN 255

/*
 * Column numbers of es_saas.events; must match the CREATE TABLE in
 * es_saas--1.0.sql.
 */
#define Anum_es_events_tenant_id 1
#define Anum_es_events_position 2
#define Anum_es_events_stream 3
#define Anum_es_events_version 4
#define Anum_es_events_type 5
#define Anum_es_events_data 6
#define Anum_es_events_metadata 7
#define Anum_es_events_id 8
#define Anum_es_events_recorded_at 9
#define Anum_es_events_category 10
#define Anum_es_events_batch_size 11
#define Anum_es_events_batch_index 12
#define Natts_es_events 12

/* Column of es_saas.tenants read in C */
#define Anum_es_tenants_status 3

/* Columns of the es_event output type, in contract order */
#define ES_EVENT_NATTS 8

/* GUCs (es_saas.c) */
extern int	es_max_batch_events;
extern int	es_max_event_bytes;
extern int	es_max_read_count;
extern int	es_max_json_depth;
extern bool es_notify;
extern char *es_tenant_setting;

/* validate.c */
extern void es_validate_tenant_id(const char *tenant);
extern void es_validate_stream(const char *stream);
extern char *es_stream_category(const char *stream);
extern int	es_clamp_count(int32 max_count);

typedef struct EsEventInput
{
	char	   *type;
	Jsonb	   *data;
	Jsonb	   *metadata;
	pg_uuid_t	id;
	bool		id_given;
} EsEventInput;

extern EsEventInput *es_parse_events(Jsonb *events, int *nevents);
extern char *es_jsonb_text_field(Jsonb *obj, const char *key, bool *found);
extern JsonbValue *es_jsonb_field(Jsonb *obj, const char *key);
extern int	es_jsonb_depth(Jsonb *jb);
extern bool es_parse_uuid(const char *str, pg_uuid_t *uuid);
extern bool es_jsonb_int_field(Jsonb *obj, const char *key, int64 *value);
extern char *es_jsonb_required_text(Jsonb *obj, const char *key);

#endif							/* ES_SAAS_H */
