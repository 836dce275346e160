-- Up Migration

-- The admission step's key (db/queries/admission.ts `admitStep`): the workflow time of the tick,
-- strictly increasing along `admission-<sale id>` and its continue-as-new runs. A step whose key
-- is not above the last one recorded admits nothing and answers the recorded result, so an
-- attempt that committed but whose answer was lost is retried without admitting a second batch.
alter table waiting_rooms add column last_step_key bigint, add column last_step_result jsonb;

-- Down Migration

alter table waiting_rooms drop column last_step_key, drop column last_step_result;
