-- dualpath:ticket SHOP-131
-- Contract: the old column goes. Its values live on in display_name, but the column itself
-- (and anything that differed) returns only from the backup taken before this change.
-- dualpath:irreversible reason="drops customers.name; restore from the pre-change backup"
ALTER TABLE customers DROP COLUMN name;
