/*-------------------------------------------------------------------------
 *
 * docs.h
 *	  The read-model document store (runtime layer): es_doc_put/get/
 *	  delete/find entry points and the lookup es_query uses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ES_DOCS_H
#define ES_DOCS_H

#include "postgres.h"

#include "utils/jsonb.h"

/* The document (copied out of SPI) or NULL; SPI must be connected. */
extern Jsonb *es_doc_lookup(const char *tenant, const char *collection,
							const char *key);

#endif /* ES_DOCS_H */
