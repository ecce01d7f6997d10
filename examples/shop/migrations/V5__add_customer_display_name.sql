-- dualpath:ticket SHOP-130
-- Expand: customers get a display name; the old "name" column goes away in V7.
ALTER TABLE customers ADD COLUMN display_name VARCHAR(200);
