-- Issue 19 (found by the report property test): `amount / rate(from) * rate(to)` rounds the
-- quotient before the product, so an amount whose exact conversion ends on a half cent could
-- come out a ten-thousandth low (0.63 at 0.9240 → 1.0967: 0.747749…98 instead of 0.74775).
-- Multiplying first keeps the product exact and rounds once.
CREATE OR REPLACE FUNCTION waymark_convert(amount numeric, from_cur text, to_cur text, on_day date) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN from_cur = to_cur THEN amount
                ELSE amount * waymark_eur_rate(to_cur, on_day) / waymark_eur_rate(from_cur, on_day) END
$$;
