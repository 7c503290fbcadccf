-- Columns that this sync session added or changed in the semantic layer.
-- Table names come from the workflow's _export (digsync_tables), checked by digsync.
SELECT
  m.database_name,
  m.table_name,
  m.column_name,
  m.column_type,
  m.description,
  m.tags,
  m.is_pii,
  m.pii_category,
  m.first_seen,
  m.last_seen,
  l.sync_mode,
  l.new_tables,
  l.new_columns
FROM ${digsync_tables.field_metadata} AS m
JOIN ${digsync_tables.sync_log} AS l
  ON l.session_id = m.last_sync_session
WHERE m.last_sync_session = '${session_id}'
ORDER BY m.database_name, m.table_name, m.column_name
