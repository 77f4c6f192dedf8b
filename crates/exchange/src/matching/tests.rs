//! Unit tests of the matching engine.
