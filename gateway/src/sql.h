/*
 * sql.h - the fixed, parameterised statements of the gateway.  No SQL is
 * ever built from request data; user values only travel as $n parameters.
 */
#ifndef ES_SQL_H
#define ES_SQL_H

/* One output event (contract section 2) as jsonb, from row alias e. */
#define ES_SQL_EVENT_JSON \
	"jsonb_build_object('position', e.position, 'stream', e.stream, 'version', e.version, " \
	"'type', e.type, 'data', e.data, 'metadata', e.metadata, 'id', e.id, " \
	"'recorded_at', e.recorded_at)"

#endif
