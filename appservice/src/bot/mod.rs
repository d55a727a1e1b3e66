//! The bot: runs the queued jobs — answering commands, accepting invitations, reconciling rooms
//! with the homeserver — after their transaction was acknowledged.
//!
//! Jobs are at-least-once: a job interrupted by a crash runs again. Answers are sent with a
//! transaction ID derived from the command's event ID, so the homeserver deduplicates a
//! repeated answer.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use parvis_e2ee::{BotCrypto, CryptoError, EncryptedEvent, Undecryptable};
use parvis_homeserver_bridge::{ClientError, Intents};
use ruma::{
    OwnedEventId, OwnedRoomId, OwnedServerName, OwnedTransactionId, OwnedUserId, RoomId,
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
    events::{
        MessageLikeEventContent, MessageLikeEventType, StateEventContent, StateEventType,
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
    events::{MediaBody, RevisionNoticeEventContent, RoomPurpose, WikiPageEventContent},
    limits::{Admission, CommandLimits, InvitePolicy, may_create_community},
    permission::check_writer,
    projection::{CommentRow, Identity, Job, RevisionRow},
    publishing::publication::PublicationKind,
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
        }
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
                        if matches!(error.errcode(), Some("M_FORBIDDEN" | "M_NOT_FOUND")) =>
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
                self.fetch_body(room_id, kind, object_id, event_id, url)
                    .await
            }
            Job::ReconcileAll => self.reconcile_all(|_, _| {}).await.map(|_| ()),
        }
    }

    /// Reconciles every room the bot is joined to and forgets the others, reporting progress
    /// as `(done, total)`. Returns how many rooms are indexed.
    pub async fn reconcile_all(
        &self,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<usize, JobError> {
        let joined = self
            .intents
            .bot()
            .send(joined_rooms::v3::Request::new())
            .await?
            .joined_rooms;
        for room_id in self.index.tracked_rooms().await? {
            if !joined.contains(&room_id) {
                self.index.forget_room(&room_id).await?;
            }
        }
        progress(0, joined.len());
        let mut failed = 0;
        for (done, room_id) in joined.iter().enumerate() {
            // One room the homeserver or the index cannot serve must not keep the others
            // from being reconciled: its error is logged, and the next pass tries it again.
            if let Err(error) = self.reconcile_room(room_id).await {
                failed += 1;
                tracing::warn!(%room_id, %error, "room not reconciled");
            }
            progress(done + 1, joined.len());
        }
        if failed > 0 {
            tracing::warn!(
                failed,
                rooms = joined.len(),
                "some rooms were not reconciled"
            );
        }
        Ok(joined.len() - failed)
    }

    /// Replaces the indexed state of `room_id` with the homeserver's current state.
    pub async fn reconcile_room(&self, room_id: &RoomId) -> Result<(), JobError> {
        let state = match self
            .intents
            .bot()
            .send(get_state_events::v3::Request::new(room_id.to_owned()))
            .await
        {
            Ok(response) => response.room_state,
            // No longer in the room: the leave event (or the next rebuild) forgets it.
            Err(error) if error.errcode() == Some("M_FORBIDDEN") => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let mut events = crate::ingest::state_events(&state, room_id);
        if let Some(crypto) = &self.crypto
            && !crate::encrypted_state::decrypt_state(crypto, &self.index, &mut events)
                .await
                .is_empty()
        {
            // Keep the index as it is until the room keys have come: a snapshot now would drop
            // the objects still encrypted.
            return Err(JobError::Undecryptable(Undecryptable::MissingKey(format!(
                "encrypted state of {room_id}"
            ))));
        }
        self.index
            .apply_snapshot(&self.identity, &room_id.to_owned(), &events)
            .await?;
        // The current state holds each object's latest revision; its earlier ones are in the
        // room's history, linked by `replaces_state`.
        let created_by_parvis = events
            .iter()
            .any(|event| event.event_type == "m.room.create" && event.sender == self.identity.bot);
        if created_by_parvis {
            for event in &events {
                if let Some(revision) = RevisionRow::from_event(event) {
                    self.fetch_revision_history(room_id, event.unsigned.replaces_state.clone())
                        .await?;
                    self.fetch_comments(room_id, &revision).await?;
                    self.fetch_tool_relations(room_id, &revision).await?;
                    // A rebuild runs no job queue: read media bodies now.
                    if let Some(url) = revision
                        .content
                        .get("body_media")
                        .and_then(|m| m.get("url"))
                        .and_then(|u| u.as_str())
                    {
                        self.fetch_body(
                            room_id,
                            revision.kind.as_str(),
                            &revision.object_id,
                            &revision.event_id,
                            url,
                        )
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Posts a notice about a revision of a published object: who did what, with a link.
    async fn announce(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
    ) -> Result<(), JobError> {
        let Some(text) = self.announcement(room_id, event_id).await? else {
            return Ok(());
        };
        let content = RevisionNoticeEventContent::new(text, event_id.clone());
        self.send_message(room_id, derived_txn_id(event_id, "announce"), &content)
            .await
    }

    async fn announcement(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
    ) -> Result<Option<String>, JobError> {
        let Some(revision) = self.index.revision(event_id.as_str()).await? else {
            return Ok(None);
        };
        let kind = revision.kind;
        let title_field = if kind == PublicationKind::FaqEntry {
            "question"
        } else {
            "title"
        };
        let title = revision
            .content
            .get(title_field)
            .and_then(|title| title.as_str())
            .unwrap_or("?");
        let what = match kind {
            PublicationKind::WikiPage => "the wiki page",
            PublicationKind::BlogPost => "the blog post",
            PublicationKind::FaqEntry => "the FAQ entry",
            PublicationKind::Guide => "the guide",
        };
        let verb = if revision.replaces.is_some() {
            "edited"
        } else {
            "created"
        };
        Ok(Some(format!(
            "📄 {} {verb} {what} “{title}” — https://matrix.to/#/{room_id}/{event_id}",
            revision.sender
        )))
    }

    /// Reads a body kept in the media repository, checking its size and SHA-256 against the
    /// event (and decrypting it, in an encrypted room). `None`, logged, when it is not there,
    /// too large, or not what the event says.
    pub async fn read_media_body(&self, media: &MediaBody) -> Result<Option<String>, JobError> {
        let url = media.mxc().map(|mxc| mxc.as_str()).unwrap_or_default();
        if media.size > crate::events::MAX_BODY_BYTES as u64 {
            tracing::warn!(%url, size = media.size, "body over the size Parvis reads; left empty");
            return Ok(None);
        }
        let Some(Ok((server, media_id))) = media.mxc().map(|mxc| mxc.parts()) else {
            tracing::warn!(%url, "not an mxc:// URI; body left empty");
            return Ok(None);
        };
        let request = get_content::v1::Request::new(media_id.to_owned(), server.to_owned());
        let file = match self.intents.bot().send(request).await {
            Ok(response) => response.file,
            Err(error) if matches!(error.errcode(), Some("M_NOT_FOUND")) => {
                tracing::warn!(%url, "body not found in the media repository");
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        // An encrypted attachment (encrypted room): its hash is checked as it is decrypted.
        let file = match &media.file {
            Some(encrypted) => match parvis_e2ee::decrypt_attachment(&file, encrypted) {
                Ok(plain) => plain,
                Err(error) => {
                    tracing::warn!(%url, %error, "encrypted body could not be decrypted; left empty");
                    return Ok(None);
                }
            },
            None => file,
        };
        let digest = hex::encode(sha2::Sha256::digest(&file));
        if file.len() as u64 != media.size || !digest.eq_ignore_ascii_case(&media.sha256) {
            tracing::warn!(%url, "body does not match the size and SHA-256 its event gives; left empty");
            return Ok(None);
        }
        let Ok(mut body) = String::from_utf8(file) else {
            tracing::warn!(%url, "body is not UTF-8 text; left empty");
            return Ok(None);
        };
        // As in events: PostgreSQL's text takes no NUL.
        body.retain(|c| c != '\0');
        Ok(Some(body))
    }

    /// Reads a body kept in the media repository (checking its size and SHA-256 against the
    /// event) into the index, if the revision is still current.
    pub async fn fetch_body(
        &self,
        room_id: &RoomId,
        kind: &str,
        object_id: &str,
        event_id: &str,
        url: &str,
    ) -> Result<(), JobError> {
        let Some(kind) = PublicationKind::parse(kind) else {
            return Ok(());
        };
        let Some(revision) = self
            .index
            .revisions(room_id.as_str(), kind, object_id)
            .await?
            .into_iter()
            .find(|r| r.event_id == event_id)
        else {
            return Ok(());
        };
        let media: Option<MediaBody> = revision
            .content
            .get("body_media")
            .cloned()
            .and_then(|value| serde_json::from_value(value).ok());
        let Some(media) = media.filter(|media| media.mxc().is_some_and(|mxc| mxc.as_str() == url))
        else {
            return Ok(());
        };
        let Some(body) = self.read_media_body(&media).await? else {
            return Ok(());
        };
        self.index
            .set_publication_body(room_id.as_str(), kind, object_id, event_id, &body)
            .await?;
        Ok(())
    }

    /// Reads the comments (thread messages) on every revision of the object `revision` is one of.
    async fn fetch_comments(
        &self,
        room_id: &RoomId,
        revision: &RevisionRow,
    ) -> Result<(), JobError> {
        let revisions = self
            .index
            .revisions(room_id.as_str(), revision.kind, &revision.object_id)
            .await?;
        let mut comments = Vec::new();
        for root in revisions {
            let Ok(root_id) = OwnedEventId::try_from(root.event_id.as_str()) else {
                continue;
            };
            comments.extend(
                self.relating_events(room_id, &root_id, RelationType::Thread)
                    .await?
                    .iter()
                    .filter_map(CommentRow::from_event),
            );
        }
        if !comments.is_empty() {
            self.index.put_comments(comments).await?;
        }
        Ok(())
    }

    /// Reads again the events the tools keep about the object `revision` is one of: those
    /// related to any of its revisions by a relation a tool declares (`history_relations`), and
    /// one level further on the bot's own (its notices). Only the bot's events and those of a
    /// type a tool owns are taken: an old message is never read as a new command.
    async fn fetch_tool_relations(
        &self,
        room_id: &RoomId,
        revision: &RevisionRow,
    ) -> Result<(), JobError> {
        let relations = crate::tools::history_relations();
        if relations.is_empty() {
            return Ok(());
        }
        let owned_types: Vec<&str> = crate::tools::TOOLS
            .iter()
            .flat_map(|tool| tool.events.iter().map(|(event_type, _)| *event_type))
            .collect();
        let mut roots: Vec<(OwnedEventId, bool)> = self
            .index
            .revisions(room_id.as_str(), revision.kind, &revision.object_id)
            .await?
            .into_iter()
            .filter_map(|root| OwnedEventId::try_from(root.event_id).ok())
            .map(|root| (root, true))
            .collect();
        let mut found = Vec::new();
        while let Some((root, first_level)) = roots.pop() {
            for relation in &relations {
                for event in self
                    .relating_events(room_id, &root, RelationType::from(*relation))
                    .await?
                {
                    let by_bot = event.sender == self.identity.bot;
                    if !by_bot && !owned_types.contains(&event.event_type.as_str()) {
                        continue;
                    }
                    if by_bot && first_level {
                        roots.push((event.event_id.clone(), false));
                    }
                    found.push(event);
                }
            }
        }
        if !found.is_empty() {
            self.index.ingest(&self.identity, &found).await?;
        }
        Ok(())
    }

    /// Every event related to `root` by `relation`, all pages read.
    async fn relating_events(
        &self,
        room_id: &RoomId,
        root: &OwnedEventId,
        relation: RelationType,
    ) -> Result<Vec<crate::projection::RoomEvent>, JobError> {
        let mut events = Vec::new();
        let mut from = None;
        loop {
            let mut request = get_relating_events_with_rel_type::v1::Request::new(
                room_id.to_owned(),
                root.clone(),
                relation.clone(),
            );
            request.from = from.take();
            let response = match self.intents.bot().send(request).await {
                Ok(response) => response,
                Err(error) if matches!(error.errcode(), Some("M_NOT_FOUND" | "M_FORBIDDEN")) => {
                    break;
                }
                Err(error) => return Err(error.into()),
            };
            let chunk: Vec<_> = response
                .chunk
                .into_iter()
                .map(|event| event.cast())
                .collect();
            events.extend(crate::ingest::room_events(&chunk));
            match response.next_batch {
                Some(next) => from = Some(next),
                None => break,
            }
        }
        Ok(events)
    }

    /// Follows `replaces_state` back from `previous` until a revision the index already has.
    async fn fetch_revision_history(
        &self,
        room_id: &RoomId,
        mut previous: Option<OwnedEventId>,
    ) -> Result<(), JobError> {
        let mut revisions = Vec::new();
        while let Some(event_id) = previous.take() {
            if self.index.has_revision(event_id.as_str()).await? {
                break;
            }
            let request = get_room_event::v3::Request::new(room_id.to_owned(), event_id.clone());
            let raw = match self.intents.bot().send(request).await {
                Ok(response) => response.event,
                // History the bot may not see (before it joined) ends the walk.
                Err(error) if matches!(error.errcode(), Some("M_NOT_FOUND" | "M_FORBIDDEN")) => {
                    break;
                }
                Err(error) => return Err(error.into()),
            };
            let Some(mut event) = crate::ingest::room_events(std::slice::from_ref(&raw)).pop()
            else {
                break;
            };
            if let Some(crypto) = &self.crypto {
                crate::encrypted_state::decrypt_state(
                    crypto,
                    &self.index,
                    std::slice::from_mut(&mut event),
                )
                .await;
            }
            let Some(revision) = RevisionRow::from_event(&event) else {
                break;
            };
            previous = event.unsigned.replaces_state.clone();
            revisions.push(revision);
        }
        if !revisions.is_empty() {
            self.index.put_revisions(revisions).await?;
        }
        Ok(())
    }

    async fn answer(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        sender: &OwnedUserId,
        body: &str,
    ) -> Result<(), JobError> {
        let command = command::parse(body);
        if matches!(command, Ok(Some(_)) | Err(_)) {
            let admission = self
                .command_limits
                .lock()
                .map(|mut limits| limits.admit(sender, room_id, std::time::Instant::now()))
                .unwrap_or(Admission::Run);
            match admission {
                Admission::Run => {}
                Admission::Ignore => return Ok(()),
                Admission::Refuse => {
                    let text = format!(
                        "⏳ {sender}: too many commands for now; the next ones in the coming minute are not run."
                    );
                    return self.reply(room_id, event_id, &text).await;
                }
            }
        }
        let (text, success) = match command {
            Ok(None) => return Ok(()),
            Ok(Some(Command::Help)) => (command::help_text(), true),
            Ok(Some(Command::CreateCommunity(request))) => {
                if sender.server_name() != self.server_name {
                    (
                        format!(
                            "❌ Only users of {} can create communities here; ask the Parvis of your own homeserver.",
                            self.server_name
                        ),
                        false,
                    )
                } else if request.encrypted == Some(true) && self.crypto.is_none() {
                    (
                        "❌ End-to-end encryption is disabled on this Parvis (e2ee.enabled): it cannot take part in an encrypted community.".to_owned(),
                        false,
                    )
                } else if !may_create_community(
                    self.index
                        .communities()
                        .await?
                        .iter()
                        .filter(|community| community.requested_by == sender.as_str())
                        .count(),
                    self.communities_per_user,
                ) && !self.community_requested_by(event_id).await
                {
                    (
                        format!(
                            "❌ You already have {} communities, the most this Parvis creates for one person (bot.communities_per_user).",
                            self.communities_per_user
                        ),
                        false,
                    )
                } else {
                    match self
                        .create_community_for(sender, &request, Some(event_id))
                        .await
                    {
                        Ok(created) => (
                            format!(
                                "✅ Community “{}” created: {} rooms in the space {}. You are invited to each, as owner.",
                                request.name,
                                created.rooms.len(),
                                created.space_id
                            ),
                            true,
                        ),
                        Err(error) if error.is_transient() => return Err(error),
                        Err(error) => (
                            format!("❌ The community could not be created: {error}"),
                            false,
                        ),
                    }
                }
            }
            Ok(Some(Command::WikiNew { title, body })) => {
                self.wiki_new(room_id, event_id, sender, &title, &body)
                    .await?
            }
            Ok(Some(Command::Search { words })) => {
                (self.search_for(room_id, sender, &words).await?, true)
            }
            Err(error) => (format!("❌ {error}"), false),
        };
        self.reply(room_id, event_id, &text).await?;
        self.react(room_id, event_id, if success { "✅" } else { "❌" })
            .await?;
        Ok(())
    }

    /// The community a room belongs to (the space itself or one of its rooms).
    async fn community_of(
        &self,
        room_id: &RoomId,
    ) -> Result<Option<crate::store::CommunitySummary>, JobError> {
        Ok(self
            .index
            .communities()
            .await?
            .into_iter()
            .find(|community| {
                community.space_id == room_id
                    || community.rooms.iter().any(|(room, _)| room == room_id)
            }))
    }

    /// `!parvis wiki new`: writes the page as the bot, on behalf of a sender who may write it.
    async fn wiki_new(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        sender: &OwnedUserId,
        title: &str,
        body: &str,
    ) -> Result<(String, bool), JobError> {
        let Some(community) = self.community_of(room_id).await? else {
            return Ok((
                "❌ Send this command in a room of the community whose wiki it is for.".to_owned(),
                false,
            ));
        };
        let Some((wiki, _)) = community
            .rooms
            .iter()
            .find(|(_, purpose)| purpose == RoomPurpose::Wiki.as_str())
        else {
            return Ok((
                format!("❌ The community “{}” has no wiki.", community.name),
                false,
            ));
        };
        // The bot may write anything; it writes only what the sender could write themselves.
        let event_type = PublicationKind::WikiPage.event_type();
        if let Err(refusal) =
            check_writer(&self.index, wiki.as_str(), sender.as_str(), event_type).await?
        {
            return Ok((format!("❌ {refusal}"), false));
        }
        let mut slug = crate::publishing::render::slugify(title);
        // The page ID comes from the command, so a retried job rewrites the same page.
        let id = derived_txn_id(event_id, "wiki-page")
            .as_str()
            .replace('-', "")[..12]
            .to_owned();
        let pages = self
            .index
            .publications(wiki.as_str(), PublicationKind::WikiPage)
            .await?;
        if pages
            .iter()
            .any(|page| page.slug == slug && page.object_id != id)
        {
            slug = format!("{slug}-{}", &id[..6]);
        }
        let content = WikiPageEventContent {
            title: title.to_owned(),
            slug,
            body: body.to_owned(),
            body_media: None,
            parent: None,
            tags: Vec::new(),
            requested_by: Some(sender.clone()),
        };
        let event_id = self.send_state(wiki, &id, &content).await?;
        Ok((
            format!("✅ Wiki page “{title}” written: https://matrix.to/#/{wiki}/{event_id}"),
            true,
        ))
    }

    /// `!parvis search`: what the sender may read, in this room's community when it is one.
    ///
    /// The answer is posted in the room, for everyone in it to read: it lists only objects every
    /// joined or invited member of this room may read (published, in rooms they have all
    /// joined), and nothing of an encrypted room's into a room that is not encrypted.
    async fn search_for(
        &self,
        room_id: &OwnedRoomId,
        sender: &OwnedUserId,
        words: &str,
    ) -> Result<String, JobError> {
        /// Results shown.
        const SHOWN: usize = 5;
        let community = self
            .community_of(room_id)
            .await?
            .map(|community| community.space_id.to_string());
        let words =
            SearchQuery::bounded_text(words).unwrap_or_else(|_| words.chars().take(200).collect());
        let query = SearchQuery {
            text: words.clone(),
            user_id: sender.to_string(),
            community,
            limit: 50,
            ..Default::default()
        };
        let hits = self.index.search(&query).await?;
        let audience = self.key_recipients(room_id).await?;
        let here_encrypted = self.is_encrypted(room_id.as_str()).await?;
        let mut readable_rooms: std::collections::HashMap<String, bool> = Default::default();
        let mut shown = Vec::new();
        for hit in hits {
            if shown.len() == SHOWN {
                break;
            }
            let readable = match readable_rooms.get(&hit.room_id) {
                Some(readable) => *readable,
                None => {
                    let readable = self
                        .readable_by_all(&hit.room_id, &audience, here_encrypted, room_id)
                        .await?;
                    readable_rooms.insert(hit.room_id.clone(), readable);
                    readable
                }
            };
            let Some(kind) = PublicationKind::parse(&hit.kind) else {
                continue;
            };
            if !readable {
                continue;
            }
            // A draft is its author's only, even when the author asks.
            let published = self
                .index
                .publication(&hit.room_id, kind, &hit.object_id)
                .await?
                .is_some_and(|item| item.status == "published");
            if published {
                shown.push((hit, kind));
            }
        }
        if shown.is_empty() {
            return Ok(format!(
                "🔎 Nothing found for “{words}” that everyone in this room may read."
            ));
        }
        let mut text = format!("🔎 {} result(s) for “{words}”:", shown.len());
        for (rank, (hit, kind)) in shown.iter().enumerate() {
            let kind = match kind {
                PublicationKind::WikiPage => "wiki page",
                PublicationKind::BlogPost => "blog post",
                PublicationKind::FaqEntry => "FAQ",
                PublicationKind::Guide => "guide",
            };
            text.push_str(&format!(
                "\n{}. {} ({kind}) — https://matrix.to/#/{}",
                rank + 1,
                hit.title,
                hit.room_id
            ));
        }
        Ok(text)
    }

    async fn is_encrypted(&self, room_id: &str) -> Result<bool, JobError> {
        Ok(self
            .index
            .state_content(room_id, "m.room.encryption", "")
            .await?
            .is_some())
    }

    /// Whether every one of `audience` has joined `room` — and, when `room` is encrypted,
    /// whether the answer goes into an encrypted room too.
    async fn readable_by_all(
        &self,
        room: &str,
        audience: &[OwnedUserId],
        answer_encrypted: bool,
        answer_room: &RoomId,
    ) -> Result<bool, JobError> {
        if room == answer_room.as_str() {
            return Ok(true);
        }
        if self.is_encrypted(room).await? && !answer_encrypted {
            return Ok(false);
        }
        let joined: HashSet<String> = self
            .index
            .state_events(room, "m.room.member")
            .await?
            .into_iter()
            .filter(|(_, _, content)| {
                content.get("membership").and_then(|m| m.as_str()) == Some("join")
            })
            .map(|(user, _, _)| user)
            .collect();
        Ok(audience
            .iter()
            .filter(|user| **user != self.identity.bot)
            .all(|user| joined.contains(user.as_str())))
    }

    /// Creates a community owned by `owner`: its space, then each room, linked both ways.
    pub async fn create_community(
        &self,
        owner: &OwnedUserId,
        request: &CreateCommunity,
    ) -> Result<CreatedCommunity, JobError> {
        self.create_community_for(owner, request, None).await
    }

    /// Whether the community of the command `event_id` was (at least partly) created: a retried
    /// job resumes it instead of counting against the quota.
    async fn community_requested_by(&self, event_id: &OwnedEventId) -> bool {
        self.resolve_alias(&self.community_alias(event_id, None))
            .await
            .is_ok_and(|room| room.is_some())
    }

    /// The alias of the space (or of its room for `purpose`) created for the command
    /// `event_id`: in the appservice's namespace, derived from the command, so a retried job
    /// finds what a first attempt created instead of creating a second community.
    fn community_alias(&self, event_id: &OwnedEventId, purpose: Option<RoomPurpose>) -> String {
        let digest = hex::encode(sha2::Sha256::digest(event_id.as_str().as_bytes()));
        let mut localpart = format!("{}c{}", self.identity.user_prefix, &digest[..16]);
        if let Some(purpose) = purpose {
            localpart.push('_');
            localpart.push_str(purpose.as_str());
        }
        localpart
    }

    async fn resolve_alias(&self, localpart: &str) -> Result<Option<OwnedRoomId>, JobError> {
        let Ok(alias) =
            ruma::OwnedRoomAliasId::try_from(format!("#{localpart}:{}", self.server_name))
        else {
            return Ok(None);
        };
        match self
            .intents
            .bot()
            .send(get_alias::v3::Request::new(alias))
            .await
        {
            Ok(response) => Ok(Some(response.room_id)),
            Err(error) if error.errcode() == Some("M_NOT_FOUND") => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Creates a room, or, when the alias it is created with already names a room (a retried
    /// job), that room.
    async fn create_or_find(
        &self,
        mut request: ruma::api::client::room::create_room::v3::Request,
        alias: Option<String>,
    ) -> Result<OwnedRoomId, JobError> {
        let Some(alias) = alias else {
            return Ok(self.intents.bot().send(request).await?.room_id);
        };
        request.room_alias_name = Some(alias.clone());
        match self.intents.bot().send(request).await {
            Ok(response) => Ok(response.room_id),
            Err(error) if error.errcode() == Some("M_ROOM_IN_USE") => self
                .resolve_alias(&alias)
                .await?
                .ok_or_else(|| error.into()),
            Err(error) => Err(error.into()),
        }
    }

    /// Creates the community of `owner`; with the command's `event_id`, idempotently.
    async fn create_community_for(
        &self,
        owner: &OwnedUserId,
        request: &CreateCommunity,
        event_id: Option<&OwnedEventId>,
    ) -> Result<CreatedCommunity, JobError> {
        let bot = self.intents.bot();
        let blueprint = CommunityBlueprint {
            name: request.name.clone(),
            description: request.description.clone(),
            tools: request.tools.clone(),
            owner: owner.clone(),
            bot: self.identity.bot.clone(),
            server_name: self.server_name.clone(),
            room_version: RoomVersionFacts::of(&self.default_room_version().await?),
            web_url: self.web_url.clone(),
            encrypted: request.encrypted.unwrap_or(self.encrypt_new_communities),
        };
        let alias = |purpose| event_id.map(|event_id| self.community_alias(event_id, purpose));
        let space_id = self
            .create_or_find(blueprint.space_request(), alias(None))
            .await?;
        bot.mark_joined(&space_id);
        let mut rooms = Vec::new();
        for (position, purpose) in blueprint.rooms().into_iter().enumerate() {
            let room_id = self
                .create_or_find(
                    blueprint.room_request(purpose, &space_id),
                    alias(Some(purpose)),
                )
                .await?;
            bot.mark_joined(&room_id);
            let child = send_state_event::v3::Request::new(
                space_id.clone(),
                &room_id,
                &blueprint.space_child(position),
            )
            .map_err(|e| ClientError::Request(e.to_string()))?;
            bot.send(child).await?;
            rooms.push((purpose, room_id));
        }
        tracing::info!(%space_id, %owner, rooms = rooms.len(), "community created");
        Ok(CreatedCommunity { space_id, rooms })
    }

    async fn default_room_version(&self) -> Result<RoomVersionId, ClientError> {
        self.default_room_version
            .get_or_try_init(|| async {
                let response = self
                    .intents
                    .bot()
                    .send(get_capabilities::v3::Request::new())
                    .await?;
                Ok(response.capabilities.room_versions.default)
            })
            .await
            .cloned()
    }

    async fn reply(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        text: &str,
    ) -> Result<(), JobError> {
        let mut content = notice(text);
        content.relates_to = Some(Relation::Reply(Reply::new(InReplyTo::new(
            event_id.clone(),
        ))));
        self.send_message(room_id, derived_txn_id(event_id, "reply"), &content)
            .await
    }

    async fn react(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        key: &str,
    ) -> Result<(), JobError> {
        let content = ReactionEventContent::new(Annotation::new(event_id.clone(), key.to_owned()));
        self.send_message(room_id, derived_txn_id(event_id, "reaction"), &content)
            .await
    }

    /// Sends a message-like event as the bot: encrypted for the room's members when the room
    /// is encrypted (never in clear there: without a device, the bot does not answer).
    async fn send_message(
        &self,
        room_id: &OwnedRoomId,
        txn_id: OwnedTransactionId,
        content: &impl MessageLikeEventContent,
    ) -> Result<(), JobError> {
        let bad = |e: serde_json::Error| ClientError::Request(e.to_string());
        let encrypted = self
            .index
            .state_content(room_id.as_str(), "m.room.encryption", "")
            .await?
            .is_some();
        if !encrypted {
            let request = send_message_event::v3::Request::new(room_id.clone(), txn_id, content)
                .map_err(bad)?;
            self.intents.bot().send(request).await?;
            return Ok(());
        }
        let Some(crypto) = &self.crypto else {
            tracing::warn!(%room_id, "not answering in an encrypted room: e2ee.enabled is false");
            return Ok(());
        };
        let members = self.key_recipients(room_id).await?;
        let plain = Raw::new(content).map_err(bad)?.cast_unchecked();
        let ciphertext = crypto
            .encrypt(room_id, &members, &content.event_type().to_string(), &plain)
            .await?;
        let request = send_message_event::v3::Request::new_raw(
            room_id.clone(),
            txn_id,
            MessageLikeEventType::RoomEncrypted,
            ciphertext,
        );
        self.intents.bot().send(request).await?;
        Ok(())
    }

    /// Who gets the room keys of what the bot sends: joined and invited members.
    async fn key_recipients(&self, room_id: &RoomId) -> Result<Vec<OwnedUserId>, JobError> {
        Ok(self
            .index
            .state_events(room_id.as_str(), "m.room.member")
            .await?
            .into_iter()
            .filter(|(_, _, content)| {
                matches!(
                    content.get("membership").and_then(|m| m.as_str()),
                    Some("join" | "invite")
                )
            })
            .filter_map(|(user, _, _)| OwnedUserId::try_from(user).ok())
            .collect())
    }

    /// Sends a state event as the bot: encrypted (MSC4362) when the room asks for encrypted
    /// state. Returns its event ID.
    async fn send_state(
        &self,
        room_id: &OwnedRoomId,
        state_key: &str,
        content: &impl StateEventContent<StateKey = String>,
    ) -> Result<OwnedEventId, JobError> {
        let bad = |e: serde_json::Error| ClientError::Request(e.to_string());
        let encrypts_state = self
            .index
            .state_content(room_id.as_str(), "m.room.encryption", "")
            .await?
            .is_some_and(|(_, encryption)| crate::encrypted_state::encrypts_state(&encryption));
        let request = if encrypts_state {
            let Some(crypto) = &self.crypto else {
                return Err(JobError::Crypto(CryptoError::Olm(
                    "this room encrypts its state and e2ee.enabled is false".to_owned(),
                )));
            };
            let members = self.key_recipients(room_id).await?;
            let event_type = content.event_type().to_string();
            let plain = Raw::new(content).map_err(bad)?.cast_unchecked();
            let encrypted = crypto
                .encrypt_state(room_id, &members, &event_type, state_key, &plain)
                .await?;
            send_state_event::v3::Request::new_raw(
                room_id.clone(),
                StateEventType::RoomEncrypted,
                format!("{event_type}:{state_key}"),
                encrypted,
            )
        } else {
            send_state_event::v3::Request::new(room_id.clone(), state_key, content).map_err(bad)?
        };
        Ok(self.intents.bot().send(request).await?.event_id)
    }

    /// Decrypts an encrypted message and, when it is a `!parvis` command, answers it (in the
    /// room, encrypted). Without its room key yet, the job is retried (2 s, 4 s, 8 s…); the
    /// sender is told once per Megolm session when the key still has not come.
    async fn decrypt_message(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        event: &serde_json::Value,
        attempts: i64,
    ) -> Result<(), JobError> {
        let Some(crypto) = &self.crypto else {
            return Ok(());
        };
        let raw: Raw<EncryptedEvent> = match serde_json::value::to_raw_value(event) {
            Ok(raw) => Raw::from_json(raw),
            Err(error) => {
                tracing::warn!(%error, %event_id, "an encrypted event that is not JSON");
                return Ok(());
            }
        };
        let decrypted = match crypto.decrypt(room_id, &raw).await {
            Ok(decrypted) => decrypted,
            Err(Undecryptable::MissingKey(why)) => {
                if attempts + 1 >= UNDECRYPTABLE_TELL_AFTER {
                    self.tell_undecryptable(room_id, event_id, event, None)
                        .await?;
                }
                return Err(JobError::Undecryptable(Undecryptable::MissingKey(why)));
            }
            Err(Undecryptable::Withheld(code)) => {
                // Refused on purpose: say so at once (the key may still be shared later).
                self.tell_undecryptable(room_id, event_id, event, Some(&code))
                    .await?;
                return Err(JobError::Undecryptable(Undecryptable::Withheld(code)));
            }
            Err(error @ Undecryptable::Invalid(_)) => {
                tracing::warn!(%error, %event_id, "an encrypted message Parvis will never read");
                return Ok(());
            }
        };
        let Ok(message) = serde_json::from_str::<serde_json::Value>(decrypted.json().get()) else {
            return Ok(());
        };
        let content = &message["content"];
        let is_edit = content["m.relates_to"]["rel_type"] == "m.replace";
        let body = content["body"].as_str().unwrap_or_default();
        if message["type"] != "m.room.message"
            || content["msgtype"] != "m.text"
            || is_edit
            || !body.trim_start().starts_with(command::PREFIX)
        {
            return Ok(());
        }
        let Some(sender) = message["sender"]
            .as_str()
            .and_then(|s| OwnedUserId::try_from(s).ok())
        else {
            return Ok(());
        };
        tracing::info!(%room_id, %event_id, %sender, "answering an encrypted command");
        self.answer(room_id, event_id, &sender, body).await
    }

    /// Tells the room, once per Megolm session, that Parvis cannot read its messages.
    async fn tell_undecryptable(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        event: &serde_json::Value,
        withheld: Option<&str>,
    ) -> Result<(), JobError> {
        let session = event["content"]["session_id"]
            .as_str()
            .unwrap_or(event_id.as_str())
            .to_owned();
        let first = self
            .undecryptable_told
            .lock()
            .map(|mut told| told.insert(session))
            .unwrap_or(false);
        if first {
            let sender = event["sender"].as_str().unwrap_or("?");
            let why = match withheld {
                Some(code) => {
                    format!("your client withheld its room key from Parvis's device ({code})")
                }
                None => "its room key did not reach Parvis's device".to_owned(),
            };
            let text = format!(
                "🔒 Parvis cannot read the encrypted messages {sender} sent from this session: {why}. Commands in them were not run; send them again, or let your client share keys with Parvis's device (it is not verified)."
            );
            self.reply(room_id, event_id, &text).await?;
        }
        Ok(())
    }
}

/// A notice of the bot's, mentioning no one: it often quotes what people wrote (titles, search
/// words), and with the bot's power a quoted `@room` would notify the whole room. An explicit,
/// empty `m.mentions` turns off the mention rules that read the body.
fn notice(text: impl Into<String>) -> RoomMessageEventContent {
    let mut content = RoomMessageEventContent::notice_plain(text);
    content.mentions = Some(ruma::events::Mentions::new());
    content
}

/// After how many failed attempts to decrypt a message its sender is told (≈ 1 minute).
const UNDECRYPTABLE_TELL_AFTER: i64 = 5;

/// A transaction ID that is the same each time the same answer to the same event is sent, so a
/// retried job does not post twice; a UUID, so different senders never collide.
fn derived_txn_id(event_id: &OwnedEventId, purpose: &str) -> OwnedTransactionId {
    let name = format!("{purpose}:{event_id}");
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
        .to_string()
        .into()
}
