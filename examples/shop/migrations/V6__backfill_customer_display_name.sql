-- dualpath:ticket SHOP-130
-- Backfill in key-ordered batches so no long lock is held on a big customers table.
-- dualpath:batch table=customers key=id size=500
UPDATE customers SET display_name = name WHERE display_name IS NULL;
