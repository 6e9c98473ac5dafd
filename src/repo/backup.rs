//! A consistent copy of a live SQLite database.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

/// Copy the whole database into a new file at `path` with `VACUUM INTO`: SQLite reads it in
/// one read transaction, so the copy is the database as of one instant, while writers go on
/// (WAL mode lets them), and it is compact and checkpointed (no -wal file to carry).
pub async fn sqlite_snapshot(db: &DatabaseConnection, path: &std::path::Path) -> Result<(), DbErr> {
    let target = path.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
        .await
        .map(|_| ())
}
