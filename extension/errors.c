/*-------------------------------------------------------------------------
 *
 * errors.c
 *	  Single throw point for the contract's ESnnn errors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "errors.h"
#include "lib/stringinfo.h"
#include "utils/json.h"

/* Raise sqlerrcode with a formatted message and a JSON errdetail. */
void
es_raise(int sqlerrcode, const char *detail_json, const char *fmt,...)
{
	StringInfoData msg;

	initStringInfo(&msg);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&msg, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}

	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg_internal("%s", msg.data),
			 errdetail_internal("%s", detail_json ? detail_json : "{}")));
	pg_unreachable();
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
