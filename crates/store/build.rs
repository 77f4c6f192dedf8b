//! Rebuilds the crate when a migration changes: `embed_migrations!` reads the SQL files at
//! compile time, and cargo does not track files a macro reads.

fn main() {
    println!("cargo:rerun-if-changed=migrations/sqlite");
    println!("cargo:rerun-if-changed=migrations/postgres");
}
