/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  Checks of arguments and event batches, and the jsonb field helpers.
 *
 * Pure functions of their input and the limit GUCs defined here: they
 * never touch the database, so a bad argument is refused (ES400/ES422/
 * ES413) before anything is locked or written.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_VALIDATE_H
#define ES_VALIDATE_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/uuid.h"

/* Limits that are not configurable */
#define ES_MAX_TENANT_LEN 63
#define ES_MAX_STREAM_LEN 255
#define ES_MAX_TYPE_LEN	  255

/* Limit GUCs (PGC_SUSET: a client cannot raise its own quota) */
extern int es_max_batch_events;
extern int es_max_event_bytes;
extern int es_max_read_count;
extern int es_max_json_depth;

/* Define the limit GUCs; from _PG_init. */
extern void es_validate_init(void);

/* One event of a batch, as parsed from the input */
typedef struct EsEventInput
{
	char	 *type;
	Jsonb	 *data;
	Jsonb	 *metadata;
	pg_uuid_t id;
	bool	  id_given;
} EsEventInput;

extern void	 es_validate_tenant_id(const char *tenant);
extern void	 es_validate_stream(const char *stream);
extern char *es_stream_category(const char *stream);
extern int	 es_clamp_count(int32 max_count);

extern EsEventInput *es_parse_events(Jsonb *events, int *nevents);
extern char *es_jsonb_text_field(Jsonb *obj, const char *key, bool *found);
extern JsonbValue *es_jsonb_field(Jsonb *obj, const char *key);
extern int		   es_jsonb_depth(Jsonb *jb);
/* Depth of jb; *text_bytes = the length of its JSON text (JsonbToCString). */
extern int	 es_jsonb_measure(Jsonb *jb, int64 *text_bytes);
extern bool	 es_parse_uuid(const char *str, pg_uuid_t *uuid);
extern bool	 es_jsonb_int_field(Jsonb *obj, const char *key, int64 *value);
extern char *es_jsonb_required_text(Jsonb *obj, const char *key);

/* Push "key": value into a jsonb object being built (str NULL: null) */
extern void es_jsonb_push_string(JsonbParseState **state, const char *key,
								 const char *str);
extern void es_jsonb_push_int8(JsonbParseState **state, const char *key, int64 value);
extern void es_jsonb_push_jsonb(JsonbParseState **state, const char *key, Jsonb *jb);

/* Quote str as a JSON string into a palloc'd buffer */
extern char *es_json_quote(const char *str);

#endif /* ES_VALIDATE_H */
