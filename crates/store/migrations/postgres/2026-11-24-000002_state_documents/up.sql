-- Named JSON documents for state that is saved and restored whole: the paper exchange's
-- balances and orders, and (later) engine state such as a grid's ledger or the mode manager.
CREATE TABLE state_documents (
    name TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
