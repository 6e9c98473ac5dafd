//! Receives other instances' account changes (PostgreSQL `LISTEN`) and forgets the changed
//! accounts in this instance's cache (`services::account_cache`). While it is not
//! connected, the cache serves nothing, so a missed notification can never keep a disabled
//! account working.

use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::watch;
use uuid::Uuid;

use crate::repo::accounts::CHANGES_CHANNEL;
use crate::state::AppState;

/// Seconds between attempts to reconnect.
const RETRY_SECS: u64 = 2;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    if state.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        // One serving process: its own invalidations are all there are.
        return;
    }
    loop {
        match listen(&state).await {
            Ok(mut listener) => {
                // Anything changed before LISTEN took effect is dropped with the entries.
                state.accounts.set_listening(true);
                tracing::debug!("listening for account changes");
                loop {
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => {
                            state.accounts.set_listening(false);
                            return;
                        }
                        next = listener.try_recv() => match next {
                            Ok(Some(n)) => match n.payload().parse::<Uuid>() {
                                Ok(id) => state.accounts.invalidate(id),
                                Err(_) => state.accounts.clear(),
                            },
                            // The connection dropped and was re-established (LISTEN again):
                            // notifications in between may be lost.
                            Ok(None) => state.accounts.clear(),
                            Err(e) => {
                                state.accounts.set_listening(false);
                                tracing::warn!(error = %e, "account change listener lost; reading accounts from the database until it is back");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => {
                state.accounts.set_listening(false);
                tracing::warn!(error = %e, "cannot listen for account changes; reading accounts from the database");
            }
        }
        if crate::jobs::sleep_or_stop(&mut stop, RETRY_SECS).await {
            return;
        }
    }
}

async fn listen(state: &AppState) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(state.db.get_postgres_connection_pool()).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    Ok(listener)
}
