-- The report grid's columns each user chose (Reports → Columns): metric keys, comma-separated,
-- in the order of the metric registry; NULL shows every metric.
ALTER TABLE users ADD COLUMN report_columns text CHECK (report_columns ~ '^[a-z_]+(,[a-z_]+)*$');
