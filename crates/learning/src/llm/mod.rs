//! The LLM advisor: a thin OpenAI-compatible client, strict validation of every answer, a
//! record of every exchange for replay, and the call sites that use it (trading signal,
//! portfolio optimizer, coin discovery).

pub(crate) mod advisor;
pub(crate) mod client;
pub(crate) mod combine;
pub(crate) mod validate;
