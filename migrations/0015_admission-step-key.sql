-- Up Migration

-- The admission step's key (db/queries/admission.ts `admitStep`): the workflow time of the tick,
-- strictly increasing along `admission-<sale id>` and its continue-as-new runs. A step whose key
-- is not above the last one recorded admits nothing and answers the recorded result, so an
-- attempt that committed but whose answer was lost is retried without admitting a second batch.
alter table waiting_rooms add column last_step_key bigint, add column last_step_result jsonb;

-- The proof-of-work surge counts a sale's joins across every API process
-- (api/services/waiting-room.ts `difficultyFor`): each process writes its own joins per 10 s window
-- (the window's index by its clock) about once a second and reads the others'. Unlogged: only
-- the last 20 s matter, so a crash that empties the table costs at most one window's surge.
create unlogged table pow_join_counts (
  sale_id       uuid not null,
  window_index  bigint not null,
  process_id    uuid not null,
  joins         integer not null check (joins >= 0),
  primary key (sale_id, window_index, process_id)
);

-- Down Migration

drop table pow_join_counts;
alter table waiting_rooms drop column last_step_key, drop column last_step_result;
