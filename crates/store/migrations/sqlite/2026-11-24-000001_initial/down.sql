DROP TABLE events;
DROP TABLE trade_pairs;
DROP TABLE fills;
DROP TABLE order_sequences;
DROP TABLE order_status_history;
DROP TABLE orders;
DROP TABLE cohorts;
