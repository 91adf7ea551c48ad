/*-------------------------------------------------------------------------
 *
 * spi_util.h
 *	  Kept SPI plans and the entry/exit protocol of every es_* function.
 *
 * Every SQL-callable function runs as its caller (SECURITY INVOKER).  It
 * records the caller for access checks, then switches to the owner of the
 * extension's tables (a superuser) for its internal reads and writes, the
 * way PostgreSQL's RI triggers do.  Internal SQL is schema-qualified and
 * parameterised; plans are prepared once per backend and kept.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_SPI_UTIL_H
#define ES_SPI_UTIL_H

#include "postgres.h"

#include "executor/spi.h"

typedef struct EsCall
{
	Oid	 caller; /* role that called the es_* function */
	Oid	 save_userid;
	int	 save_sec_context;
	bool connected;
} EsCall;

extern void es_call_begin(EsCall *call);
extern void es_call_end(EsCall *call);

/* Prepare sql once and keep the plan in *slot. */
extern SPIPlanPtr es_plan(SPIPlanPtr *slot, const char *sql, int nargs,
						  const Oid *argtypes);

/* Execute a kept plan; returns SPI_processed, raises on SPI failure. */
extern uint64 es_exec(SPIPlanPtr plan, const Datum *values, const char *nulls,
					  bool read_only, long count);

/* Column of row 0 of the last result, or isnull */
extern Datum es_result_datum(int row, int col, bool *isnull);

/* Copy a jsonb/text result out of SPI memory into the caller's context */
extern Datum es_result_copy(int row, int col, bool *isnull);

/* Memory context that outlives the current SPI connection */
extern MemoryContext es_upper_context(void);

/* Owner of the extension's tables (a superuser, else an error) */
extern Oid es_table_owner(void);

#endif /* ES_SPI_UTIL_H */
