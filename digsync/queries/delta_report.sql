-- What this sync session changed in the semantic layer: the columns it added, restored,
-- re-typed, marked removed or re-described, with the session's counts from the sync log.
-- Table names come from the workflow's _export (digsync_tables), checked by digsync;
-- ${session_id} is Digdag's own. Written by digsync_tasks.sync_metadata (see docs/runtime.md).
-- A column can briefly have two row versions on TD (an interrupted write): keep the newest.
WITH latest AS (
  SELECT
    m.*,
    ROW_NUMBER() OVER (
      PARTITION BY m.database_name, m.table_name, m.column_name
      ORDER BY m.written_at DESC, m.row_id DESC
    ) AS version_rank
  FROM ${digsync_tables.field_metadata} AS m
)
SELECT
  m.last_change,
  m.database_name,
  m.table_name,
  m.column_name,
  m.column_type,
  m.previous_type,
  m.description,
  m.description_source,
  m.tags,
  m.is_pii,
  m.pii_category,
  m.first_seen,
  m.last_seen,
  m.removed_at,
  l.sync_mode,
  l.new_tables,
  l.new_columns,
  l.changed_columns,
  l.removed_columns,
  l.auto_gen_count
FROM latest AS m
JOIN ${digsync_tables.sync_log} AS l
  ON l.session_id = m.last_sync_session
WHERE m.version_rank = 1
  AND m.last_sync_session = '${session_id}'
  AND m.last_change <> 'unchanged'
ORDER BY m.database_name, m.table_name, m.column_name
