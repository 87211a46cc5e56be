//! `sqlx::migrate!` embeds the migration files at compile time; without
//! this, a migration added later is missed by incremental builds.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
