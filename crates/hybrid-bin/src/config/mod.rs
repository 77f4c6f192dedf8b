//! Configuration: one TOML file, environment overrides, command-line overrides; validated into
//! [`Config`] with every problem reported at once.
//!
//! Precedence, lowest first: built-in defaults, the file (`--config`), `HYBRID_<SECTION>__<KEY>`
//! environment variables, command-line options. Secrets come from the environment only.

mod cohorts;
mod load;
mod schema;
mod typed;

pub(crate) use cohorts::describe as describe_cohort;
pub(crate) use load::{
    load, mask_url as load_mask_url, show as load_show, ConfigErrors, LoadedConfig, Origin,
    Overrides,
};
pub(crate) use schema::{KEYS, SECRET_ENV_VARS};
pub(crate) use typed::{Config, ExchangeBackend, LogFormat};
