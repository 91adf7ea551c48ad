/*
 * openapi.h - the fixed parts of GET /api/v1/openapi.json: tags, the
 * schemas of every body the gateway reads or writes, and the shared error
 * responses.  router.c builds the paths from the route table and refers
 * to these by name (route fields request_schema, response_schema, errors).
 *
 * JSON written with single quotes (turned into double quotes before
 * parsing) so it stays readable; no text below may contain an apostrophe.
 * Included by router.c only.
 */
#ifndef ES_OPENAPI_H
#define ES_OPENAPI_H

/* the JSON error responses by status: name and description */
static const struct
{
	int			status;
	const char *name;
} es_openapi_error_responses[] = {
	{400, "BadRequest"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{404, "NotFound"},
	{409, "Conflict"},
	{413, "PayloadTooLarge"},
	{414, "UriTooLong"},
	{415, "UnsupportedMediaType"},
	{422, "UnprocessableContent"},
	{423, "TenantSuspended"},
	{429, "TooManyRequests"},
	{503, "Unavailable"},
	{504, "Timeout"},
};

static const char es_openapi_tags[] =
	"["
	"{'name':'operations','description':'Health probes, Prometheus metrics and this document; no token needed.'},"
	"{'name':'tenants','description':'Tenants (creation needs an admin token).'},"
	"{'name':'commands','description':'The command bus: the built-in append command and the commands the application registers.'},"
	"{'name':'queries','description':'Built-in and registered queries.'},"
	"{'name':'streams','description':'Reading one stream.'},"
	"{'name':'events','description':'The tenant log: a page of JSON or a live text/event-stream subscription.'}"
	"]";

#define ES_OA_UUID "{'type':'string','format':'uuid'}"
#define ES_OA_POS  "{'type':'integer','format':'int64','minimum':0}"
#define ES_OA_EVENT_EXAMPLE                                                          \
	"{'position':12,'stream':'order-1','version':1,'type':'OrderPlaced',"            \
	"'data':{'total':42},'metadata':{},'id':'6f1c2a52-2c1e-4a53-9d39-0b9a1a2b3c4d'," \
	"'recorded_at':'2026-01-01T12:00:00.123456+00:00'}"

static const char es_openapi_schemas[] =
	"{"
	/* errors */
	"'Error':{'type':'object','description':'Every error answer. code is stable and machine-readable; message is for people.',"
	"'required':['error'],'additionalProperties':false,'properties':{'error':{'type':'object',"
	"'required':['code','message','details'],'additionalProperties':false,'properties':{"
	"'code':{'type':'string','description':'malformed_request, missing_token, invalid_token, forbidden, not_found, method_not_allowed, "
	"conflict, wrong_expected_version, payload_too_large, uri_too_long, unsupported_media_type, invalid_content, "
	"command_rejected, tenant_suspended, limit_exceeded, headers_too_large, request_timeout, too_many_requests, unavailable or timeout',"
	"'examples':['wrong_expected_version']},"
	"'message':{'type':'string'},"
	"'details':{'$ref':'#/components/schemas/ErrorDetails'}}}}},"
	"'ErrorDetails':{'type':'object','additionalProperties':true,"
	"'description':'Empty for errors of the gateway itself. For errors of the event store (SQLSTATE ESnnn) it always "
	"carries reason, one snake_case word naming the error (see the error table of the README), followed by its "
	"machine-readable facts. Map errors on status + code + reason, never on the message.',"
	"'properties':{'reason':{'type':'string','pattern':'^[a-z][a-z0-9_]*$','examples':['wrong_expected_version']}},"
	"'examples':[{},{'reason':'wrong_expected_version','stream':'order-1','current_version':3,'expected_version':2}]},"
	/* health */
	"'Health':{'type':'object','required':['status','database','circuit_breakers','pool'],'additionalProperties':false,"
	"'properties':{'status':{'type':'string','enum':['ok','degraded']},"
	"'database':{'type':'string','enum':['ok','unreachable']},"
	"'circuit_breakers':{'type':'object','required':['event_store','query_handler'],'additionalProperties':false,"
	"'properties':{'event_store':{'$ref':'#/components/schemas/BreakerState'},"
	"'query_handler':{'$ref':'#/components/schemas/BreakerState'}}},"
	"'pool':{'type':'object','required':['size','available'],'additionalProperties':false,"
	"'properties':{'size':{'type':'integer','minimum':0},'available':{'type':'integer','minimum':0}}}}},"
	"'BreakerState':{'type':'string','enum':['closed','open','half_open']},"
	"'Probe':{'type':'object','required':['status'],'additionalProperties':false,"
	"'properties':{'status':{'type':'string','enum':['ok','ready','stopping','not_ready']},"
	"'database':{'type':'string','enum':['unreachable']}}},"
	"'OpenApiDocument':{'type':'object','required':['openapi','info','paths'],'additionalProperties':true,"
	"'properties':{'openapi':{'type':'string'},'info':{'type':'object','additionalProperties':true},'paths':{'type':'object','additionalProperties':true}}},"
	/* tenants */
	"'TenantCreate':{'type':'object','required':['id'],'additionalProperties':true,"
	"'properties':{'id':{'type':'string','minLength':1,'description':'tenant id (the pattern the extension enforces; ES400 otherwise)'},"
	"'name':{'type':['string','null']},"
	"'settings':{'type':['object','null'],'additionalProperties':true}},"
	"'examples':[{'id':'acme','name':'Acme Inc.','settings':{'plan':'pro'}}]},"
	"'Tenant':{'type':'object','required':['id','name','status','created_at','settings'],'additionalProperties':false,"
	"'properties':{'id':{'type':'string'},'name':{'type':['string','null']},"
	"'status':{'type':'string','enum':['active','suspended']},"
	"'created_at':{'type':'string','format':'date-time'},"
	"'settings':{'type':'object','additionalProperties':true}}},"
	/* commands */
	"'NewEvent':{'type':'object','required':['type','data'],'additionalProperties':false,"
	"'properties':{'type':{'type':'string','minLength':1,'maxLength':255},"
	"'data':{'description':'any JSON value'},"
	"'metadata':{'type':'object','additionalProperties':true},"
	"'id':" ES_OA_UUID "}},"
	"'AppendCommand':{'type':'object','required':['type','stream','events'],'additionalProperties':false,"
	"'description':'The built-in command: append 1..N events atomically. expected_version: null or absent = any, "
	"0 = the stream must be empty, n = its version must be n (409 wrong_expected_version otherwise).',"
	"'properties':{'type':{'type':'string','const':'append'},'stream':{'type':'string','minLength':1},"
	"'expected_version':{'type':['integer','null'],'format':'int64','minimum':0},"
	"'events':{'type':'array','minItems':1,'items':{'$ref':'#/components/schemas/NewEvent'}},"
	"'id':" ES_OA_UUID "},"
	"'examples':[{'type':'append','stream':'order-1','expected_version':0,"
	"'events':[{'type':'OrderPlaced','data':{'total':42}}]}]},"
	"'RegisteredCommand':{'type':'object','required':['type'],'additionalProperties':true,"
	"'description':'The envelope of a command the application registered (es_register_command): its type, "
	"the stream its aggregate lives in, an optional id, and any further fields its decide function reads.',"
	"'properties':{'type':{'type':'string','minLength':1},'stream':{'type':'string','minLength':1},'id':" ES_OA_UUID
	"},"
	"'examples':[{'type':'deposit','stream':'account-1','amount':10}]},"
	"'Command':{'description':'A command: the built-in append or a registered command type. A command with an id "
	"(or an Idempotency-Key header) runs at most once per tenant.',"
	"'anyOf':[{'$ref':'#/components/schemas/AppendCommand'},{'$ref':'#/components/schemas/RegisteredCommand'}]},"
	"'AppendedEvent':{'type':'object','required':['id','type','version','position'],'additionalProperties':false,"
	"'properties':{'id':" ES_OA_UUID
	",'type':{'type':'string'},'version':" ES_OA_POS ",'position':" ES_OA_POS "}},"
	"'CommandResult':{'type':'object','required':['stream','version','position','events'],'additionalProperties':true,"
	"'description':'What the command appended: the stream, its version after the append, the position of the last event.',"
	"'properties':{'stream':{'type':'string'},'version':" ES_OA_POS
	",'position':" ES_OA_POS ","
	"'events':{'type':'array','items':{'$ref':'#/components/schemas/AppendedEvent'}}},"
	"'examples':[{'stream':'order-1','version':1,'position':12,"
	"'events':[{'id':'6f1c2a52-2c1e-4a53-9d39-0b9a1a2b3c4d','type':'OrderPlaced','version':1,'position':12}]}]},"
	"'CommandPending':{'type':'object','required':['id','status'],'additionalProperties':false,"
	"'description':'A command accepted into the spool while the event store is unreachable: it will be "
	"applied exactly once; GET /api/v1/commands/{id} (the Location) tells its fate.',"
	"'properties':{'id':" ES_OA_UUID ",'status':{'type':'string','const':'pending'}}},"
	"'CommandFate':{'type':'object','required':['id','status','result'],'additionalProperties':false,"
	"'description':'The stored result of an executed command.',"
	"'properties':{'id':" ES_OA_UUID ",'status':{'type':'string','const':'executed'},"
	"'result':{'$ref':'#/components/schemas/CommandResult'}}},"
	/* events and reads */
	"'Event':{'type':'object','required':['position','stream','version','type','data','metadata','id','recorded_at'],"
	"'additionalProperties':false,"
	"'properties':{'position':" ES_OA_POS
	",'stream':{'type':'string'},'version':" ES_OA_POS ","
	"'type':{'type':'string'},'data':{'description':'any JSON value'},"
	"'metadata':{'type':['object','null'],'additionalProperties':true},'id':" ES_OA_UUID
	","
	"'recorded_at':{'type':'string','format':'date-time'}},"
	"'examples':[" ES_OA_EVENT_EXAMPLE "]},"
	"'EventList':{'type':'object','required':['events'],'additionalProperties':false,"
	"'properties':{'events':{'type':'array','items':{'$ref':'#/components/schemas/Event'}}}},"
	"'StreamRead':{'type':'object','required':['stream','version','events'],'additionalProperties':false,"
	"'properties':{'stream':{'type':'string'},'version':" ES_OA_POS ","
	"'events':{'type':'array','items':{'$ref':'#/components/schemas/Event'}}}},"
	/* queries */
	"'StreamQuery':{'type':'object','required':['type','stream'],'additionalProperties':false,"
	"'properties':{'type':{'type':'string','const':'stream'},'stream':{'type':'string','minLength':1},"
	"'from_version':" ES_OA_POS ",'limit':{'type':'integer','minimum':0}}},"
	"'LogQuery':{'type':'object','required':['type'],'additionalProperties':false,"
	"'properties':{'type':{'type':'string','const':'log'},'after_position':" ES_OA_POS ","
	"'limit':{'type':'integer','minimum':0}}},"
	"'CategoryQuery':{'type':'object','required':['type','category'],'additionalProperties':false,"
	"'properties':{'type':{'type':'string','const':'category'},'category':{'type':'string','minLength':1},"
	"'after_position':" ES_OA_POS ",'limit':{'type':'integer','minimum':0}}},"
	"'StateQuery':{'type':'object','required':['type','stream'],'additionalProperties':false,"
	"'description':'The stream folded by its aggregate up to a version or a time (both inclusive; at most one of them).',"
	"'properties':{'type':{'type':'string','const':'state'},'stream':{'type':'string','minLength':1},"
	"'as_of_version':" ES_OA_POS ",'as_of_time':{'type':'string','format':'date-time'}}},"
	"'ProjectionQuery':{'type':'object','required':['type','name','key'],'additionalProperties':false,"
	"'properties':{'type':{'type':'string','const':'projection'},'name':{'type':'string'},'key':{'type':'string'}}},"
	"'RegisteredQuery':{'type':'object','required':['type'],'additionalProperties':true,"
	"'description':'A query type the application registered (es_register_query); params goes to its function.',"
	"'properties':{'type':{'type':'string','minLength':1},'params':{'type':'object','additionalProperties':true}}},"
	"'Query':{'anyOf':[{'$ref':'#/components/schemas/StreamQuery'},{'$ref':'#/components/schemas/LogQuery'},"
	"{'$ref':'#/components/schemas/CategoryQuery'},{'$ref':'#/components/schemas/StateQuery'},"
	"{'$ref':'#/components/schemas/ProjectionQuery'},{'$ref':'#/components/schemas/RegisteredQuery'}],"
	"'examples':[{'type':'stream','stream':'order-1','from_version':1,'limit':100},{'type':'log','after_position':0},"
	"{'type':'state','stream':'account-1','as_of_version':3}]},"
	"'StateResult':{'type':'object','required':['stream','version','state'],'additionalProperties':false,"
	"'properties':{'stream':{'type':'string'},'version':" ES_OA_POS
	",'state':{'description':'the folded state'}}},"
	"'QueryResult':{'description':'stream, log and category queries answer an EventList, state a StateResult; "
	"projection answers the read-model document, a registered query whatever its function returns.',"
	"'anyOf':[{'$ref':'#/components/schemas/EventList'},{'$ref':'#/components/schemas/StateResult'},"
	"{'type':'object','additionalProperties':true},{'type':'array'},{'type':['string','number','boolean','null']}]}"
	"}";

#endif
