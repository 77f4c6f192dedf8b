//! Plain SQL on either backend, for the small tables whose queries need no diesel DSL
//! (`history.rs`, `tasks.rs`): one statement text with `?` placeholders, rewritten to `$n`
//! for PostgreSQL, bound and run on whichever connection the store holds.

use crate::store::AnyConnection;

/// `?` placeholders for SQLite, `$n` for PostgreSQL.
pub(crate) fn placeholders(conn: &AnyConnection, sql: &str) -> String {
    match conn {
        AnyConnection::Sqlite(_) => sql.to_owned(),
        AnyConnection::Pg(_) => {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
    }
}

/// Runs `$sql` (with `?` placeholders) on the connection behind `$guard`, binding with
/// `|q| q.bind…` and finishing with `execute`, `load` or `get_result`.
macro_rules! run_sql {
    ($guard:expr, $sql:expr, |$q:ident| $bind:expr, $finish:ident) => {{
        let sql = $crate::raw::placeholders(&$guard, $sql);
        match &mut *$guard {
            $crate::store::AnyConnection::Sqlite(conn) => {
                let $q = diesel::sql_query(sql.clone());
                $bind.$finish(conn)
            }
            $crate::store::AnyConnection::Pg(conn) => {
                let $q = diesel::sql_query(sql);
                $bind.$finish(conn)
            }
        }
    }};
}

pub(crate) use run_sql;
