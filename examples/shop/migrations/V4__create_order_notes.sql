-- dualpath:ticket SHOP-121
CREATE TABLE order_notes (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    CONSTRAINT order_notes_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)
);

CREATE INDEX order_notes_order_idx ON order_notes (order_id);
