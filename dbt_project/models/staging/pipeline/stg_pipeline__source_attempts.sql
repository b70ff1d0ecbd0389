{#-
    raw.source_attempts is written by every source asset (src/styringsdata/runs/source_outcomes.py), so it is read
    as a relation, not a dbt source: a source would need one Dagster asset behind it, and dbt runs after all of
    them anyway. The table always exists (raw_store.ensure_schema).
-#}
with source as (

    select * from {{ api.Relation.create(database=target.database, schema='raw', identifier='source_attempts') }}

),

renamed as (

    select
        source,
        source_table,
        run_id,
        attempted_at,
        answered,
        error_class,
        message as error_message,
        advice
    from source

)

select * from renamed
