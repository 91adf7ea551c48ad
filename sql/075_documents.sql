-- The document store (es_doc_put/get/find/delete): per tenant, argument
-- checks, row-level security; a suspended tenant's commands and document
-- writes are ES423 while reads go on; deleting a tenant erases its documents
-- and snapshots.
\set ECHO none
\i sql/fixtures/setup.psql
\i sql/fixtures/account.psql
\set ECHO all

SELECT es_create_tenant('doc-bank') ->> 'id' AS id;
SELECT es_create_tenant('doc-bank2') ->> 'id' AS id;
SELECT es_grant_tenant('regress_user_a', 'doc-bank');

-- the document store
SELECT es_doc_put('doc-bank', 'notes', 'n1', '{"text": "hello", "tags": ["a"]}');
SELECT es_doc_put('doc-bank', 'notes', 'n2', '{"text": "world", "tags": ["b"]}');
SELECT es_doc_put('doc-bank', 'notes', 'n1', '{"text": "hello again", "tags": ["a", "b"]}');
SELECT es_doc_put('doc-bank2', 'notes', 'n1', '{"text": "other tenant"}');
SELECT es_doc_get('doc-bank', 'notes', 'n1');
SELECT es_doc_get('doc-bank', 'notes', 'missing') IS NULL AS missing_is_null;
SELECT es_doc_find('doc-bank', 'notes');
SELECT es_doc_find('doc-bank', 'notes', '{"tags": ["b"]}', 1);
SELECT es_doc_delete('doc-bank', 'notes', 'n2') AS deleted, es_doc_delete('doc-bank', 'notes', 'n2') AS again;
SELECT regress_try($$SELECT es_doc_put('doc-bank', 'notes', NULL, '{}')$$);
SELECT regress_try($$SELECT es_doc_put('doc-bank', 'notes', '', '{}')$$);
SELECT regress_try($$SELECT es_doc_put('doc-bank', E'no\ttabs', 'k', '{}')$$);
SELECT regress_try($$SELECT es_doc_find('doc-bank', 'notes', '[1]')$$);
SET ROLE regress_user_a;
SELECT es_doc_get('doc-bank', 'notes', 'n1') ->> 'text' AS own_tenant;
SELECT regress_try($$SELECT es_doc_get('doc-bank2', 'notes', 'n1')$$);
SELECT count(*) AS rls_rows_without_tenant FROM es_saas.documents;
RESET ROLE;

-- suspended tenants: commands and doc writes are ES423, queries go on
SELECT es_suspend_tenant('doc-bank2') ->> 'status' AS status;
SELECT regress_try($$SELECT es_execute('doc-bank2', '{"type": "open_account", "stream": "account-1", "data": {"owner": "x"}}')$$);
SELECT regress_try($$SELECT es_doc_put('doc-bank2', 'notes', 'n1', '{}')$$);
SELECT es_doc_get('doc-bank2', 'notes', 'n1') ->> 'text' AS still_readable;
SELECT es_resume_tenant('doc-bank2') ->> 'status' AS status;

-- deleting a tenant erases its documents and snapshots too
SELECT es_delete_tenant('doc-bank2') ->> 'status' AS status;
SET row_security = off;
SELECT (SELECT count(*) FROM es_saas.documents WHERE tenant_id = 'doc-bank2') AS documents,
       (SELECT count(*) FROM es_saas.snapshots WHERE tenant_id = 'doc-bank2') AS snapshots;
RESET row_security;

-- clean up the registry
\set ECHO none
\i sql/fixtures/account_teardown.psql
\set ECHO all
