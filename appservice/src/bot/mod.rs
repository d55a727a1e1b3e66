//! The bot: runs the queued jobs — answering commands, accepting invitations, reconciling rooms
//! with the homeserver — after their transaction was acknowledged.
//!
//! Jobs are at-least-once: a job interrupted by a crash runs again. Answers are sent with a
//! transaction ID derived from the command's event ID, so the homeserver deduplicates a
//! repeated answer.

mod commands;
mod communities;
mod decrypt;
mod reconcile;
mod sender;
#[cfg(test)]
pub(crate) mod tests;
mod tool_commands;

pub use self::reconcile::Reconciled;
use self::sender::derived_txn_id;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use parvis_e2ee::{BotCrypto, CryptoError, EncryptedEvent, Undecryptable};
use parvis_homeserver_bridge::{ClientError, Intents};
use ruma::{
    EventId, OwnedEventId, OwnedRoomId, OwnedServerName, OwnedTransactionId, OwnedUserId, RoomId,
    RoomVersionId,
    api::client::{
        alias::get_alias,
        authenticated_media::get_content,
        discovery::get_capabilities,
        membership::{joined_rooms, leave_room},
        message::send_message_event,
        relations::get_relating_events_with_rel_type,
        room::get_room_event,
        state::get_state_events,
        state::send_state_event,
    },
    api::error::ErrorKind,
    events::{
        MessageLikeEventContent, MessageLikeEventType, StateEventType,
        reaction::ReactionEventContent,
        relation::RelationType,
        relation::{Annotation, InReplyTo, Reply},
        room::message::{Relation, RoomMessageEventContent},
    },
    serde::Raw,
};
use sha2::Digest;
use tokio::sync::{Notify, OnceCell};

use crate::{
    command::{self, Command, CreateCommunity},
    community::{CommunityBlueprint, RoomVersionFacts},
    events::{MediaBody, RevisionNoticeEventContent, RoomPurpose},
    indexer::Indexer,
    limits::{Admission, CommandLimits, InvitePolicy, may_create_community},
    permission::check_writer,
    projection::{CommentRow, Identity, Job, RevisionRow, RoomEvent, StateChanges},
    publishing::{
        index::PublicationIndex,
        kind::{NewPublication, PublicationKind},
    },
    store::SearchQuery,
    store::{Index, IndexStore, StoreError, now_ms},
};

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The homeserver refused or could not be reached.
    #[error(transparent)]
    Homeserver(#[from] ClientError),
    /// The index could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// End-to-end encryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// An encrypted message's room key has not arrived (yet).
    #[error(transparent)]
    Undecryptable(Undecryptable),
}

impl JobError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Homeserver(error) => error.is_transient(),
            Self::Store(_) => true,
            Self::Crypto(error) => error.is_transient(),
            Self::Undecryptable(Undecryptable::MissingKey(_) | Undecryptable::Withheld(_)) => true,
            Self::Undecryptable(Undecryptable::Invalid(_)) => false,
        }
    }
}

/// A community the bot created.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CreatedCommunity {
    /// The space.
    #[schema(value_type = String)]
    pub space_id: OwnedRoomId,
    /// Its rooms, in listing order: `[purpose, room ID]`.
    #[schema(value_type = Vec<Vec<String>>)]
    pub rooms: Vec<(RoomPurpose, OwnedRoomId)>,
}

/// The bot and its job worker.
#[derive(Debug)]
pub struct Bot {
    intents: Intents,
    index: Index,
    identity: Identity,
    server_name: OwnedServerName,
    jobs_waiting: Arc<Notify>,
    default_room_version: OnceCell<RoomVersionId>,
    web_url: String,
    crypto: Option<Arc<BotCrypto>>,
    /// Whether communities are encrypted unless asked otherwise.
    encrypt_new_communities: bool,
    /// Megolm sessions whose senders were told Parvis cannot read them (once each).
    undecryptable_told: Mutex<HashSet<String>>,
    /// Whose invitations the bot accepts.
    invite_policy: InvitePolicy,
    /// Commands answered per user and per room.
    command_limits: Mutex<CommandLimits>,
    /// Communities one user may have the bot create (0: no limit).
    communities_per_user: u32,
    /// What it counts for `/metrics` (messages it could not decrypt).
    metrics: Arc<crate::metrics::Metrics>,
}

impl Bot {
    /// A bot acting through `intents` on `index`.
    pub fn new(
        intents: Intents,
        index: Index,
        identity: Identity,
        server_name: OwnedServerName,
        jobs_waiting: Arc<Notify>,
        web_url: String,
        crypto: Option<Arc<BotCrypto>>,
    ) -> Self {
        Self {
            intents,
            index,
            identity,
            jobs_waiting,
            default_room_version: OnceCell::new(),
            web_url,
            crypto,
            encrypt_new_communities: false,
            undecryptable_told: Mutex::new(HashSet::new()),
            invite_policy: InvitePolicy::new(server_name.clone(), &[]),
            command_limits: Mutex::new(CommandLimits::new(0, 0)),
            communities_per_user: 0,
            server_name,
            metrics: Arc::default(),
        }
    }

    /// Counts into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Applies `bot.*` of the configuration: invitations, command rates, community quota.
    pub fn with_limits(mut self, config: &parvis_config::BotConfig) -> Self {
        self.invite_policy = InvitePolicy::new(self.server_name.clone(), &config.invite_servers);
        self.command_limits = Mutex::new(CommandLimits::new(
            config.commands_per_user_per_minute,
            config.commands_per_room_per_minute,
        ));
        self.communities_per_user = config.communities_per_user;
        self
    }

    /// Creates communities with encrypted rooms unless asked otherwise.
    pub fn encrypting_new_communities(mut self, encrypt: bool) -> Self {
        self.encrypt_new_communities = encrypt;
        self
    }

    /// The bot's encryption device, when end-to-end encryption is enabled.
    pub fn crypto(&self) -> Option<&Arc<BotCrypto>> {
        self.crypto.as_ref()
    }

    /// The intents the bot acts through.
    pub fn intents(&self) -> &Intents {
        &self.intents
    }

    /// Runs queued jobs until `stop` is notified.
    pub async fn run_jobs(self: Arc<Self>, stop: Arc<Notify>) {
        loop {
            let pause = match self.run_next_job().await {
                Ok(true) => continue,
                Ok(false) => match self.index.next_job_due().await {
                    Ok(Some(due)) => Duration::from_millis(
                        u64::try_from(due - now_ms()).unwrap_or(0).min(60_000),
                    ),
                    Ok(None) => Duration::from_secs(60),
                    Err(error) => {
                        tracing::error!(%error, "cannot read the job queue");
                        Duration::from_secs(5)
                    }
                },
                Err(error) => {
                    tracing::error!(%error, "cannot read the job queue");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                _ = stop.notified() => return,
                _ = self.jobs_waiting.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Runs the next due job, if any; `Ok(true)` when one ran.
    pub async fn run_next_job(&self) -> Result<bool, StoreError> {
        let Some(queued) = self.index.next_job(now_ms()).await? else {
            return Ok(false);
        };
        match self.run(&queued.job, queued.attempts).await {
            Ok(()) => self.index.complete_job(queued.id).await?,
            Err(error) if error.is_transient() => {
                // 2 s, 4 s, 8 s… up to 10 minutes.
                let delay = 2_000i64.saturating_mul(1 << queued.attempts.clamp(0, 9));
                tracing::warn!(%error, job = ?queued.job, attempts = queued.attempts + 1, "job failed; will retry");
                self.index
                    .retry_job(queued.id, now_ms() + delay, &error.to_string())
                    .await?;
            }
            Err(error) => {
                tracing::error!(%error, job = ?queued.job, "job failed for good");
                self.index
                    .retry_job(queued.id, i64::MAX, &error.to_string())
                    .await?;
            }
        }
        Ok(true)
    }

    async fn run(&self, job: &Job, attempts: i64) -> Result<(), JobError> {
        match job {
            Job::Notice { .. } => self.notify(job).await,
            Job::Decrypt {
                room_id,
                event_id,
                event,
            } => {
                self.decrypt_message(room_id, event_id, event, attempts)
                    .await
            }
            Job::Command {
                room_id,
                event_id,
                sender,
                body,
            } => self.answer(room_id, event_id, sender, body).await,
            Job::JoinRoom { room_id, inviter } => {
                if !self.invite_policy.accepts(inviter) {
                    tracing::info!(%room_id, %inviter, "declining an invitation from a server not in bot.invite_servers");
                    let leave = leave_room::v3::Request::new(room_id.clone());
                    return match self.intents.bot().send(leave).await {
                        Err(error) if !error.is_transient() => Ok(()),
                        other => other.map(|_| ()).map_err(JobError::from),
                    };
                }
                tracing::info!(%room_id, %inviter, "accepting invitation");
                // Invited means not joined, whatever the intent remembers (the bot may have
                // been kicked, and is now invited back).
                self.intents.bot().mark_left(room_id);
                match self.intents.bot().ensure_joined(room_id).await {
                    // The invitation was withdrawn or the room is gone: nothing to do.
                    Err(error)
                        if matches!(
                            error.kind(),
                            Some(ErrorKind::Forbidden | ErrorKind::NotFound)
                        ) =>
                    {
                        tracing::info!(%room_id, %error, "invitation no longer valid");
                        Ok(())
                    }
                    other => Ok(other?),
                }
            }
            Job::ReconcileRoom { room_id } => self.reconcile_room(room_id).await,
            Job::Announce { room_id, event_id } => self.announce(room_id, event_id).await,
            Job::FetchBody {
                room_id,
                kind,
                object_id,
                event_id,
                url,
            } => {
                self.fetch_body(room_id, *kind, object_id, event_id, url)
                    .await
            }
            Job::ReconcileAll => self.reconcile_all(|_, _| {}).await.map(|_| ()),
        }
    }
}
