//! The indexer: room events in, the index updated, in one database transaction each time.
//!
//! It composes the two halves that know nothing of each other: the store reads what the
//! planner needs ([`IndexWrite::context`]) and saves what it computed ([`IndexWrite::apply`]);
//! the planner ([`crate::projection`]) computes, sans-I/O, in between. A write that conflicts
//! with a concurrent one is run again whole.

use std::future::Future;

use ruma::OwnedRoomId;

use crate::{
    projection::{Identity, IndexChange, RoomEvent, SkippedEvent, plan_snapshot, plan_transaction},
    store::{IndexStore, IndexWrite, Result, retry_conflicts},
};

/// What an ingested batch changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Events seen for the first time (the others were already processed).
    pub new_events: usize,
    /// Jobs queued.
    pub jobs: usize,
    /// Events the planner could not project (recorded in the index already).
    pub skipped: Vec<SkippedEvent>,
}

/// Projecting room events into any index.
pub trait Indexer: IndexStore {
    /// Records `events` (deduplicated by event ID), projects the new ones, queues the jobs
    /// they call for, and commits once.
    fn ingest(
        &self,
        identity: &Identity,
        events: &[RoomEvent],
    ) -> impl Future<Output = Result<IngestReport>> + Send
    where
        Self: Sized,
    {
        async move {
            if events.is_empty() {
                return Ok(IngestReport::default());
            }
            retry_conflicts(|| ingest_once(self, identity, events)).await
        }
    }

    /// Replaces what the index holds of `room_id` with `state`, its full current state. The
    /// snapshot's events are not marked processed: when the homeserver delivers them later
    /// (its backlog after a restart), the last one delivered for each key is the current one
    /// and must still be applied.
    fn apply_snapshot(
        &self,
        identity: &Identity,
        room_id: &OwnedRoomId,
        state: &[RoomEvent],
    ) -> impl Future<Output = Result<()>> + Send
    where
        Self: Sized,
    {
        async move {
            retry_conflicts(|| async {
                let mut write = self.begin_write().await?;
                write.apply(plan_snapshot(identity, room_id, state)).await?;
                write.commit().await
            })
            .await
        }
    }
}

impl<S: IndexStore> Indexer for S {}

/// One attempt at [`Indexer::ingest`].
async fn ingest_once<S: IndexStore>(
    index: &S,
    identity: &Identity,
    events: &[RoomEvent],
) -> Result<IngestReport> {
    let mut write = index.begin_write().await?;
    let new_events = write.claim(events).await?;
    if new_events.is_empty() {
        // Dropped uncommitted: rolled back.
        return Ok(IngestReport::default());
    }
    let context = write.context(&new_events).await?;
    let changes = plan_transaction(identity, context, &new_events);
    let skipped = changes
        .iter()
        .filter_map(|change| match change {
            IndexChange::Skip(skipped) => Some(skipped.clone()),
            _ => None,
        })
        .collect();
    let jobs = write.apply(changes).await?;
    write.commit().await?;
    Ok(IngestReport {
        new_events: new_events.len(),
        jobs,
        skipped,
    })
}
