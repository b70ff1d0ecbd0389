{#-
    The source tables whose latest attempt failed: the figures built from them are stale (an earlier vintage
    stays published) or, with no vintage at all, rows with status source_error. A table that answers again in a
    later run drops out.
-#}
with

attempts as (

    select * from {{ ref('stg_pipeline__source_attempts') }}

),

latest as (

    select
        *,
        row_number() over (partition by source, source_table order by attempted_at desc, run_id desc) as attempt_rank
    from attempts

)

select
    source,
    source_table,
    attempted_at as failed_at,
    error_class,
    error_message,
    advice,
    case
        when source in ('SSB', 'FHI') then source || ' table ' || source_table
        when source = 'KLASS' then 'KLASS classification ' || source_table
        else source
    end
        || ' failed on ' || strftime(attempted_at, '%Y-%m-%d %H:%M UTC') || ': ' || error_class || ': '
        || error_message || '. What to do: ' || advice as failure_note
from latest
where attempt_rank = 1 and not answered
