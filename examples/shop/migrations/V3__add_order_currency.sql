-- dualpath:ticket SHOP-117
-- Prices become multi-currency; existing orders were all in euros.
ALTER TABLE orders ADD COLUMN currency CHAR(3) NOT NULL DEFAULT 'EUR';
