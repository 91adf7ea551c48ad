/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  Checks of tenant ids, stream names and event batches.
 *
 * Pure functions of their input (plus the limit GUCs): they never touch
 * the database, so every bad argument is refused before anything is
 * locked or written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "errors.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
#include "validate.h"

#include <limits.h>

int es_max_batch_events = 1000;
int es_max_event_bytes = 1024 * 1024;
int es_max_read_count = 10000;
int es_max_json_depth = 100;

void
es_validate_init(void)
{
	DefineCustomIntVariable("es_saas.max_batch_events",
							"Maximum number of events in one append.",
							"Larger batches are refused with ES413.",
							&es_max_batch_events, 1000, 1, 1000000, PGC_SUSET,
							0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_event_bytes",
							"Maximum size of one event: data plus metadata as JSON text.",
							"Larger events are refused with ES413.",
							&es_max_event_bytes, 1024 * 1024, 64, 256 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_read_count",
							"Cap on max_count of the read functions.",
							"A larger max_count is clamped to this value.",
							&es_max_read_count, 10000, 1, INT_MAX, PGC_SUSET,
							0, NULL, NULL, NULL);

	DefineCustomIntVariable("es_saas.max_json_depth",
							"Maximum nesting depth of event data and metadata.",
							"Deeper documents are refused with ES422.",
							&es_max_json_depth, 100, 2, 10000, PGC_SUSET, 0,
							NULL, NULL, NULL);
}

static const char *const event_keys[] = {"type", "data", "metadata", "id"};

/* ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ */
void
es_validate_tenant_id(const char *tenant)
{
	size_t len;

	if (tenant == NULL)
		es_raise_null_argument("tenant");

	len = strlen(tenant);
	if (len == 0 || len > ES_MAX_TENANT_LEN || !isalnum((unsigned char) tenant[0]))
		goto bad;
	for (size_t i = 1; i < len; i++)
	{
		unsigned char c = (unsigned char) tenant[i];

		if (!(isalnum(c) || c == '.' || c == '_' || c == '-') || c >= 0x80)
			goto bad;
	}
	return;

bad:
	es_raise_malformed(es_fact_str(es_fact_argument("tenant"), "pattern",
								   "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"),
					   "invalid tenant id");
}

/* True when s (len bytes of valid UTF-8) holds a C0 or C1 control character.
 */
static bool
has_control_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 || c == 0x7F)
			return true;
		/* U+0080..U+009F are encoded as C2 80..C2 9F */
		if (c == 0xC2 && i + 1 < len && (unsigned char) s[i + 1] >= 0x80 &&
			(unsigned char) s[i + 1] <= 0x9F)
			return true;
	}
	return false;
}

/* 1..255 bytes of UTF-8 without control characters. */
void
es_validate_stream(const char *stream)
{
	size_t len;

	if (stream == NULL)
		es_raise_null_argument("stream");
	len = strlen(stream);
	if (len == 0 || len > ES_MAX_STREAM_LEN)
		es_raise_malformed(es_fact_int(es_fact_argument("stream"), "max_bytes",
									   ES_MAX_STREAM_LEN),
						   "stream name must be 1 to %d bytes long",
						   ES_MAX_STREAM_LEN);
	if (has_control_chars(stream, len))
		es_raise_malformed(es_fact_argument("stream"),
						   "stream name must not contain control characters");
}

/* The part of the stream name before the first '-' (Message DB rule). */
char *
es_stream_category(const char *stream)
{
	const char *dash = strchr(stream, '-');

	return dash ? pnstrdup(stream, dash - stream) : pstrdup(stream);
}

/* Validate a max_count argument and clamp it to es_saas.max_read_count. */
int
es_clamp_count(int32 max_count)
{
	if (max_count < 0)
		es_raise_negative_argument("max_count");
	return Min(max_count, es_max_read_count);
}

/* Parse a UUID in its canonical 8-4-4-4-12 form (any case); false if bad. */
bool
es_parse_uuid(const char *str, pg_uuid_t *uuid)
{
	int nibbles = 0;

	for (const char *p = str; *p; p++)
	{
		int v;
		int pos = (int) (p - str);

		if (pos == 8 || pos == 13 || pos == 18 || pos == 23)
		{
			if (*p != '-')
				return false;
			continue;
		}
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return false;
		if (nibbles >= UUID_LEN * 2)
			return false;
		if (nibbles % 2 == 0)
			uuid->data[nibbles / 2] = (unsigned char) (v << 4);
		else
			uuid->data[nibbles / 2] |= (unsigned char) v;
		nibbles++;
	}
	return nibbles == UUID_LEN * 2 && strlen(str) == 36;
}

/* Nesting depth of a jsonb document (a scalar has depth 0). */
int
es_jsonb_depth(Jsonb *jb)
{
	JsonbIterator	  *it = JsonbIteratorInit(&jb->root);
	JsonbValue		   v;
	JsonbIteratorToken tok;
	int				   depth = 0;
	int				   max_depth = 0;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_ARRAY || tok == WJB_BEGIN_OBJECT)
		{
			depth++;
			max_depth = Max(max_depth, depth);
			if (max_depth > es_max_json_depth)
				break; /* deep enough to refuse; stop early */
		}
		else if (tok == WJB_END_ARRAY || tok == WJB_END_OBJECT)
			depth--;
	}
	/* a raw scalar is wrapped in a one-element pseudo array */
	if (JB_ROOT_IS_SCALAR(jb))
		max_depth = 0;
	return max_depth;
}

/* Bytes escape_json() writes for a string: quotes plus escapes. */
static int64
escaped_length(const char *s, int len)
{
	int64 n = 2;

	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
			c == '\r' || c == '\t')
			n += 2;
		else if (c < ' ')
			n += 6; /* \u00XX */
		else
			n += 1;
	}
	return n;
}

/* Bytes of a scalar as JsonbToCString() prints it. */
static int64
scalar_length(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return 4;
		case jbvBool:
			return v->val.boolean ? 4 : 5;
		case jbvString:
			return escaped_length(v->val.string.val, v->val.string.len);
		case jbvNumeric:
		{
			char *num = DatumGetCString(
				DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
			int64 n = strlen(num);

			pfree(num);
			return n;
		}
		default:
			elog(ERROR, "unexpected jsonb scalar type %d", (int) v->type);
	}
	return 0; /* keep the compiler quiet */
}

/*
 * Nesting depth of jb and, in *text_bytes, the length of its text form --
 * exactly what JsonbToCString() would produce (", " between items, ": "
 * after keys), in one walk and without building the string: the size limit
 * is defined on the JSON text, and printing every event just to count it
 * was the largest avoidable cost of an append.
 */
int
es_jsonb_measure(Jsonb *jb, int64 *text_bytes)
{
	JsonbIterator	  *it = JsonbIteratorInit(&jb->root);
	JsonbValue		   v;
	JsonbIteratorToken tok;
	int				   depth = 0;
	int				   max_depth = 0;
	bool			   first = true;
	int64			   n = 0;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
			case WJB_BEGIN_OBJECT:
				if (!first)
					n += 2;
				/* a raw scalar is wrapped in a pseudo array, printed bare */
				if (!(tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar))
				{
					n += 1;
					depth++;
					max_depth = Max(max_depth, depth);
				}
				first = true;
				break;
			case WJB_KEY:
				if (!first)
					n += 2;
				n += scalar_length(&v) + 2;
				first = true; /* the value follows the key, no separator */
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (!first)
					n += 2;
				n += scalar_length(&v);
				first = false;
				break;
			case WJB_END_ARRAY:
			case WJB_END_OBJECT:
				if (depth > 0 && !JB_ROOT_IS_SCALAR(jb))
				{
					n += 1;
					depth--;
				}
				first = false;
				break;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d", (int) tok);
		}
	}
	*text_bytes = n;
	return max_depth;
}

/* Value of key in a jsonb object, or NULL when absent or not an object. */
JsonbValue *
es_jsonb_field(Jsonb *obj, const char *key)
{
	JsonbValue k;

	if (obj == NULL || !JB_ROOT_IS_OBJECT(obj))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&obj->root, JB_FOBJECT, &k);
}

/* Text of a string field; NULL when absent, JSON null or not a string. */
char *
es_jsonb_text_field(Jsonb *obj, const char *key, bool *found)
{
	JsonbValue *v = es_jsonb_field(obj, key);

	if (found)
		*found = (v != NULL && v->type != jbvNull);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* ES422: the events argument is not a non-empty array */
static void raise_not_a_batch(void) pg_attribute_noreturn();

static void
raise_not_a_batch(void)
{
	es_raise_invalid("invalid_event", es_fact_argument("events"),
					 "events must be a non-empty JSON array of event objects");
}

/* Raise ES422 about events[index].field. */
static void event_error(int index, const char *field, const char *problem)
	pg_attribute_noreturn();

static void
event_error(int index, const char *field, const char *problem)
{
	es_raise_invalid("invalid_event",
					 es_fact_str(es_fact_int(es_facts(), "index", index), "field", field),
					 "events[%d]%s%s %s", index, field[0] ? "." : "", field, problem);
}

/* Check the byte size and depth limits of one event part. */
static void
check_event_part(Jsonb *part, int index, const char *field, int64 *bytes)
{
	int64 text_bytes;

	if (es_jsonb_measure(part, &text_bytes) > es_max_json_depth)
		event_error(index, field,
					psprintf("is nested deeper than es_saas.max_json_depth (%d)",
							 es_max_json_depth));
	*bytes += text_bytes;
}

/* The batch itself: a non-empty array within es_saas.max_batch_events. */
static int
check_batch(Jsonb *events)
{
	int n;

	if (events == NULL || !JB_ROOT_IS_ARRAY(events) || JB_ROOT_IS_SCALAR(events))
		raise_not_a_batch();
	n = JB_ROOT_COUNT(events);
	if (n == 0)
		raise_not_a_batch();
	if (n > es_max_batch_events)
		es_raise_too_large("batch_too_large",
						   es_fact_int(es_fact_int(es_fact_str(es_facts(), "limit",
															   "es_saas.max_batch_events"),
												   "max", es_max_batch_events),
									   "actual", n),
						   "too many events in one append: %d (limit %d)", n,
						   es_max_batch_events);
	return n;
}

/* Refuse unknown keys: a misspelt "metdata" must not vanish. */
static void
check_event_keys(Jsonb *obj, int index)
{
	JsonbIterator	  *it = JsonbIteratorInit(&obj->root);
	JsonbValue		   v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		bool known = false;

		if (tok != WJB_KEY)
			continue;
		for (size_t k = 0; k < lengthof(event_keys); k++)
			if ((size_t) v.val.string.len == strlen(event_keys[k]) &&
				memcmp(v.val.string.val, event_keys[k], v.val.string.len) == 0)
				known = true;
		if (!known)
			event_error(index, pnstrdup(v.val.string.val, v.val.string.len),
						"is not an event field (type, data, metadata, id)");
	}
}

/* One event object of the batch into *out; ES422/ES413 naming its index. */
static void
parse_event(JsonbValue *elem, int i, EsEventInput *out)
{
	Jsonb	   *obj;
	JsonbValue *field;
	int64		bytes = 0;

	if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
		event_error(i, "", "must be a JSON object");
	obj = JsonbValueToJsonb(elem);
	check_event_keys(obj, i);

	field = es_jsonb_field(obj, "type");
	if (field == NULL || field->type != jbvString ||
		field->val.string.len < 1 || field->val.string.len > ES_MAX_TYPE_LEN)
		event_error(i, "type", "must be a string of 1 to 255 bytes");
	out->type = pnstrdup(field->val.string.val, field->val.string.len);
	if (has_control_chars(out->type, field->val.string.len))
		event_error(i, "type", "must not contain control characters");

	field = es_jsonb_field(obj, "data");
	if (field == NULL)
		event_error(i, "data", "is required (any JSON value)");
	out->data = JsonbValueToJsonb(field);
	check_event_part(out->data, i, "data", &bytes);

	field = es_jsonb_field(obj, "metadata");
	if (field == NULL || field->type == jbvNull)
		out->metadata = NULL;
	else if (field->type != jbvBinary ||
			 !JsonContainerIsObject(field->val.binary.data))
		event_error(i, "metadata", "must be a JSON object");
	else
	{
		out->metadata = JsonbValueToJsonb(field);
		check_event_part(out->metadata, i, "metadata", &bytes);
	}

	if (bytes > es_max_event_bytes)
		es_raise_too_large("event_too_large",
						   es_fact_int(es_fact_int(es_fact_str(es_fact_int(es_facts(), "index", i),
															   "limit", "es_saas.max_event_bytes"),
												   "max", es_max_event_bytes),
									   "actual", bytes),
						   "events[%d] is too large: " INT64_FORMAT " bytes (limit %d)",
						   i, bytes, es_max_event_bytes);

	field = es_jsonb_field(obj, "id");
	if (field != NULL && field->type != jbvNull)
	{
		char *idtext;

		if (field->type != jbvString)
			event_error(i, "id", "must be a UUID string");
		idtext = pnstrdup(field->val.string.val, field->val.string.len);
		if (!es_parse_uuid(idtext, &out->id))
			event_error(i, "id", "must be a UUID string");
		out->id_given = true;
	}
}

/*
 * Validate an es_append batch and return its events.
 *
 * events must be a non-empty JSON array of event objects
 * {"type", "data", "metadata"?, "id"?}; anything else is ES422 naming the
 * element, a batch or event over the limits is ES413.
 */
EsEventInput *
es_parse_events(Jsonb *events, int *nevents)
{
	int			  n = check_batch(events);
	EsEventInput *result = palloc0(sizeof(EsEventInput) * n);

	for (int i = 0; i < n; i++)
		parse_event(getIthJsonbValueFromContainer(&events->root, i), i, &result[i]);
	*nevents = n;
	return result;
}

/*
 * Integer field of a command or query object.  Returns false when absent
 * or JSON null; ES422 when it is not an integral JSON number.
 */
bool
es_jsonb_int_field(Jsonb *obj, const char *key, int64 *value)
{
	JsonbValue *v = es_jsonb_field(obj, key);
	char	   *text;
	char	   *end;

	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type == jbvNumeric)
	{
		text = DatumGetCString(
			DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		errno = 0;
		*value = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0' && end != text)
			return true;
	}
	es_raise_invalid("invalid_field", es_fact_field(key),
					 "%s must be an integer", key);
}

/* Required string field of a command or query object (ES422 otherwise). */
char *
es_jsonb_required_text(Jsonb *obj, const char *key)
{
	char *value = es_jsonb_text_field(obj, key, NULL);

	if (value == NULL)
		es_raise_invalid("invalid_field", es_fact_field(key),
						 "%s must be a string", key);
	return value;
}

/* Return str as a quoted JSON string. */
char *
es_json_quote(const char *str)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, str);
	return buf.data;
}

static void
push_key(JsonbParseState **state, const char *key)
{
	JsonbValue k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &k);
}

/* Push "key": str (JSON null when str is NULL) into an object being built. */
void
es_jsonb_push_string(JsonbParseState **state, const char *key, const char *str)
{
	JsonbValue v;

	push_key(state, key);
	if (str == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) str;
		v.val.string.len = strlen(str);
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

void
es_jsonb_push_int8(JsonbParseState **state, const char *key, int64 value)
{
	JsonbValue v;

	push_key(state, key);
	v.type = jbvNumeric;
	v.val.numeric =
		DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(value)));
	pushJsonbValue(state, WJB_VALUE, &v);
}

void
es_jsonb_push_jsonb(JsonbParseState **state, const char *key, Jsonb *jb)
{
	JsonbValue v;

	push_key(state, key);
	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue *scalar = getIthJsonbValueFromContainer(&jb->root, 0);

		pushJsonbValue(state, WJB_VALUE, scalar);
		return;
	}
	v.type = jbvBinary;
	v.val.binary.data = &jb->root;
	v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	pushJsonbValue(state, WJB_VALUE, &v);
}
