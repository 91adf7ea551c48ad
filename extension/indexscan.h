/*-------------------------------------------------------------------------
 *
 * indexscan.h
 *	  Small helpers for direct btree scans of the extension's tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_INDEXSCAN_H
#define ES_INDEXSCAN_H

#include "postgres.h"

#include "access/skey.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/* Equality on text column attno of index (its collation) with value. */
extern void es_init_text_key(ScanKey key, AttrNumber attno, Relation index,
							 const char *value);

/*
 * Highest value of an int8 column among the rows matching keys that
 * snapshot sees; 0 when there is none.  Index-only where the visibility
 * map allows.
 */
extern int64 es_index_last_int8(Relation heap, Relation index, ScanKey keys,
								int nkeys, Snapshot snapshot,
								AttrNumber indexatt, AttrNumber heapatt);

#endif /* ES_INDEXSCAN_H */
