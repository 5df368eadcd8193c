-- A step now holds its own doses: "08:00=5 22:00=10 x3" (mg at each time, then days), steps
-- separated by ", ". Before, every step had the same dose at each of plans.times: "5x3,10x3".
-- Rewrite those plans in the new form; what they remind does not change (the dose rows
-- already planned keep their times and mg). plans.times keeps every time the plan uses.
UPDATE plans SET steps = (
    WITH RECURSIVE walk(rest, done) AS (
        SELECT plans.steps || ',', ''
        UNION ALL
        SELECT
            substr(rest, instr(rest, ',') + 1),
            done || CASE WHEN done = '' THEN '' ELSE ', ' END
                || replace(plans.times, ',',
                        '=' || substr(rest, 1, instr(rest, 'x') - 1) || ' ')
                || '=' || substr(rest, 1, instr(rest, 'x') - 1)
                || ' x' || substr(rest, instr(rest, 'x') + 1, instr(rest, ',') - instr(rest, 'x') - 1)
        FROM walk WHERE rest != ''
    )
    SELECT done FROM walk WHERE rest = ''
)
WHERE instr(steps, '=') = 0;
