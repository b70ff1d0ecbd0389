{#-
    A member's own indicator texts (seed member_indicator_texts) come from a member of today's ASSS, and a target
    is one the scorecard can read: an operator, a number, then the unit and words as the member writes them.
    Each failing row says what is wrong.
-#}
select
    municipality_code,
    indicator_id,
    target_rule,
    case
        when municipality_code not in ({{ "'" ~ asss_municipalities() | join("', '") ~ "'" }})
            then 'municipality_code is not a member of today''s ASSS'
        else 'target_rule must start with > or < and a number, e.g. "> 10 %"'
    end as problem
from {{ ref('member_indicator_texts') }}
where
    municipality_code not in ({{ "'" ~ asss_municipalities() | join("', '") ~ "'" }})
    or (target_rule is not null and not regexp_matches(target_rule, '^[<>]\s*[0-9]+([,.][0-9]+)?'))
