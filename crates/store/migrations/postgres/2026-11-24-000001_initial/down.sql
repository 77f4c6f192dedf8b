DROP TABLE events;
DROP FUNCTION events_append_only();
DROP TABLE trade_pairs;
DROP TABLE fills;
DROP TABLE order_sequences;
DROP TABLE order_status_history;
DROP TABLE orders;
DROP TABLE cohorts;
