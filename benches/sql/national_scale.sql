-- The national data set of issue 23 §3, grown from a synthetic history by copying it.
--
-- `motcua seed synthetic` writes each dossier through the application's own code (its
-- history, pauses, audit chain) at about 2,000 dossiers a second on this machine: the
-- 7,000,000 dossiers of the target would take an hour. Copying a seeded history inside the
-- database keeps every row's shape and the mix of procedures, units, statuses and ages,
-- and runs at the speed of INSERT … SELECT:
--
--   motcua --database-url postgres://postgres@127.0.0.1:5432/nat seed synthetic \
--       --cases 200000 --days 365 --seed 42 --open 80000
--   psql -h 127.0.0.1 -U postgres -d nat -v open_copies=25 -v closed_copies=42 \
--       -f benches/sql/national_scale.sql
--
-- gives 80,000 × 25 = 2,000,000 open dossiers and 120,000 × 42 = 5,040,000 closed ones,
-- each with its events. A copy k of dossier `id` is `id + k × 10,000,000`, its code the
-- original's with k × 10,000 added to its number (`…-260413-0001` → `…-260413-10001`, a
-- valid code of the same unit and day); everything else (units, dates, states) is the
-- original's, so a unit's open load grows by the same factor. The triggers keep the
-- backlog rollup as the rows go in (`motcua stats check` confirms it); the planner
-- statistics are gathered at the end.
-- The columns are read from the catalogue, so the script follows the schema's migrations.

\set ON_ERROR_STOP on
SET synchronous_commit = off;

SELECT set_config('nat.open_copies', :'open_copies', false),
       set_config('nat.closed_copies', :'closed_copies', false);

DO $$
DECLARE
    open_copies int := current_setting('nat.open_copies')::int;
    closed_copies int := current_setting('nat.closed_copies')::int;
    case_cols text;
    event_cols text;
    base_max bigint;
    k int;
BEGIN
    SELECT max(id) INTO base_max FROM cases;
    IF base_max >= 10000000 THEN
        RAISE EXCEPTION 'cases already copied (max id %)', base_max;
    END IF;
    SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO case_cols
      FROM information_schema.columns
     WHERE table_name = 'cases' AND table_schema = current_schema() AND column_name NOT IN ('id', 'code');
    SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO event_cols
      FROM information_schema.columns
     WHERE table_name = 'case_events' AND table_schema = current_schema() AND column_name NOT IN ('id', 'case_id');
    FOR k IN 1 .. greatest(open_copies, closed_copies) - 1 LOOP
        EXECUTE format(
            'INSERT INTO cases (id, code, %1$s) SELECT id + %2$s * 10000000, '
            'regexp_replace(code, ''-[0-9]+$'', '''') || ''-'' || (%2$s * 10000 + substring(code from ''[0-9]+$'')::int), %1$s FROM cases '
            'WHERE id < 10000000 AND ((closed_at IS NULL AND %2$s < %3$s) OR (closed_at IS NOT NULL AND %2$s < %4$s))',
            case_cols, k, open_copies, closed_copies);
        EXECUTE format(
            'INSERT INTO case_events (case_id, %1$s) SELECT e.case_id + %2$s * 10000000, %3$s FROM case_events e '
            'JOIN cases c ON c.id = e.case_id WHERE c.id < 10000000 '
            'AND ((c.closed_at IS NULL AND %2$s < %4$s) OR (c.closed_at IS NOT NULL AND %2$s < %5$s))',
            event_cols, k, (SELECT string_agg('e.' || c, ', ') FROM unnest(string_to_array(event_cols, ', ')) c),
            open_copies, closed_copies);
        RAISE NOTICE 'copy % of %', k, greatest(open_copies, closed_copies) - 1;
        COMMIT;
    END LOOP;
END
$$;

SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases));
ANALYZE;
SELECT count(*) AS dossiers, count(*) FILTER (WHERE closed_at IS NULL) AS open FROM cases;
