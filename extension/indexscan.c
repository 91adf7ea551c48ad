/*-------------------------------------------------------------------------
 *
 * indexscan.c
 *	  Scan keys and the last-value probe shared by the log, the stream
 *	  version and the tenant lookup.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "executor/tuptable.h"
#include "indexscan.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

/* Equality on text column attno of index (its collation) with value. */
void
es_init_text_key(ScanKey key, AttrNumber attno, Relation index, const char *value)
{
	ScanKeyEntryInitialize(key, 0, attno, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[attno - 1], F_TEXTEQ,
						   CStringGetTextDatum(value));
}

/*
 * Highest value of an int8 column among the rows matching keys (equality
 * on the leading index columns) that snapshot sees; 0 when there is none.
 * Index-only where the visibility map allows, as IndexOnlyNext does: the
 * value is also index column indexatt, and the heap page holding a quiet
 * stream's or tenant's last row is then never read.
 */
int64
es_index_last_int8(Relation heap, Relation index, ScanKey keys, int nkeys,
				   Snapshot snapshot, AttrNumber indexatt, AttrNumber heapatt)
{
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc	scan;
	ItemPointer		tid;
	Buffer			vmbuffer = InvalidBuffer;
	int64			result = 0;
	bool			isnull;

	scan = index_beginscan(heap, index, snapshot, nkeys, 0);
	scan->xs_want_itup = true;
	index_rescan(scan, keys, nkeys, NULL, 0);
	while ((tid = index_getnext_tid(scan, BackwardScanDirection)) != NULL)
	{
		if (VM_ALL_VISIBLE(heap, ItemPointerGetBlockNumber(tid), &vmbuffer))
		{
			result = DatumGetInt64(index_getattr(scan->xs_itup, indexatt,
												 scan->xs_itupdesc, &isnull));
			break;
		}
		if (index_fetch_heap(scan, slot))
		{
			result = DatumGetInt64(slot_getattr(slot, heapatt, &isnull));
			break;
		}
	}
	if (vmbuffer != InvalidBuffer)
		ReleaseBuffer(vmbuffer);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return result;
}
