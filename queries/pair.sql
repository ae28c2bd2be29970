-- name: pair
-- summary: Joint articles of two countries (or the links between groups), year by year, with each country's articles beside them.
-- params:
--   country        ISO alpha-3 code (or group code) of the first
--   partner        ISO alpha-3 code (or group code) of the second
--   country_members  the first's countries: [its code], or the group's members
--   partner_members  the second's countries
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
-- Every year of the span is listed: a year with no row was under the source's publication floor
-- (joint_articles is NULL there), not zero. With a group, joint_articles is the sum over its
-- members of their joint articles with the other side (an article with two members counts twice);
-- pairs counts the member pairs published that year. With overlapping groups each member pair is
-- counted once, whichever side each country is taken on.
-- The pair's counts and each side's articles come from one scan of link_years (a group's articles
-- can't be summed from its members', so its share is NULL).
SELECT years.year,
       joint.joint_articles,
       years.complete,
       joint.joint_articles / joint.country_articles AS country_share,
       joint.joint_articles / joint.partner_articles AS partner_share,
       joint.pairs
FROM (
    SELECT year, complete
    FROM field_years
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
) AS years
LEFT JOIN (
    SELECT year,
           CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           count(joint_articles) AS pairs,
           max(country_articles) FILTER (WHERE country = $country) AS country_articles,
           max(partner_articles) FILTER (WHERE partner = $partner) AS partner_articles
    FROM link_years
    WHERE list_contains($country_members, country) AND list_contains($partner_members, partner)
      -- a pair whose countries are each on both sides (overlapping groups) is in link_years both ways: once
      AND (country < partner OR NOT (list_contains($partner_members, country) AND list_contains($country_members, partner)))
      AND field = $field AND source = $source
    GROUP BY year
    HAVING count(joint_articles) > 0
) AS joint ON joint.year = years.year
ORDER BY years.year
