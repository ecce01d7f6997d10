-- The backfill copied data that still lives in "name": undoing it only empties the copy.
-- dualpath:batch table=customers key=id size=500
UPDATE customers SET display_name = NULL WHERE display_name IS NOT NULL;
