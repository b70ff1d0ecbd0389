{#-
    Each region code as it was valid in a year, mapped to today's municipality code with the KLASS
    lineage. A code maps forward when it changed after that year (0220 Asker in 2019 -> 3203);
    codes that never changed, and SSB's aggregates, map to themselves.
-#}
with

cells as (

    -- '.' marks a code that did not exist that year: it contributes nothing.
    select distinct region_code, year
    from {{ ref('int_ssb__measures') }}
    where status_symbol is distinct from '.'
    union
    -- FHI publishes historical municipality codes too; they are harmonised the same way. FHI has no '.' for a
    -- code that did not exist: a cell with neither a figure nor a symbol contributes nothing.
    select distinct region_code, year
    from {{ ref('stg_fhi__values') }}
    where value is not null or status_symbol is not null

),

lineage as (

    select * from {{ ref('stg_klass__municipality_lineage') }}

),

mapped as (

    select
        cells.region_code,
        cells.year,
        coalesce(lineage.to_code, cells.region_code) as municipality_code,
        lineage.from_name,
        lineage.to_name,
        coalesce(lineage.is_split, false) as is_split,
        lineage.to_code is not null as is_recoded,
        cells.region_code in (
            {%- for code in var('aggregate_regions') %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        ) or cells.region_code like 'EKG%' as is_aggregate
    from cells
    left join lineage
        on lineage.from_code = cells.region_code
        and lineage.changed_on > make_date(cells.year, 12, 31)

),

final as (

    select
        *,
        count(*) filter (where not is_split)
            over (partition by municipality_code, year) as contributor_count,
        bool_or(is_split) over (partition by municipality_code, year) as has_split_contributor
    from mapped

)

select * from final
