//! Reconciling: a room's state read again from the homeserver into the index, with the
//! history the index keeps of it (revisions, comments, bodies in the media repository, and the
//! relations tools declare).

use super::*;

/// What a pass over every joined room did.
#[derive(Debug)]
pub struct Reconciled {
    /// The rooms the bot is joined to.
    pub rooms: usize,
    /// Those that could not be reconciled (their errors are logged).
    pub failed: Vec<OwnedRoomId>,
}

impl Bot {
    /// Reconciles every room the bot is joined to and forgets the others, reporting progress
    /// as `(done, total)`. A room that fails is logged and left for the next pass; the others
    /// are reconciled all the same.
    pub async fn reconcile_all(
        &self,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Reconciled, JobError> {
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
        let mut failed = Vec::new();
        for (done, room_id) in joined.iter().enumerate() {
            // One room the homeserver or the index cannot serve must not keep the others
            // from being reconciled: its error is logged, and the next pass tries it again.
            if let Err(error) = self.reconcile_room(room_id).await {
                tracing::warn!(%room_id, %error, "room not reconciled");
                failed.push(room_id.clone());
            }
            progress(done + 1, joined.len());
        }
        if !failed.is_empty() {
            tracing::warn!(
                failed = failed.len(),
                rooms = joined.len(),
                "some rooms were not reconciled"
            );
        }
        Ok(Reconciled {
            rooms: joined.len(),
            failed,
        })
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
            Err(error) if error.kind() == Some(&ErrorKind::Forbidden) => return Ok(()),
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
        // A room whose state the index holds as it is (most rooms, on a periodic reconcile)
        // is not rewritten. Its history is read again all the same: the homeserver may have
        // lost timeline events (a notice, a comment, a reaction) that no state tells of, and
        // what is read is only written when new.
        let indexed = self.index.room_state(room_id).await?;
        let changes = StateChanges::between(&indexed, room_id, &events);
        let rewritten = !changes.is_empty();
        if rewritten {
            tracing::debug!(%room_id, changed = changes.changed.len(), removed = changes.removed, "room state differs from the index");
            self.index
                .apply_snapshot(&self.identity, &room_id.to_owned(), &events)
                .await?;
        }
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
                    // The snapshot rewrote the publication rows, bodies read from the media
                    // repository aside: read them again (a rebuild runs no job queue).
                    if rewritten
                        && let Some(url) = revision
                            .content
                            .get("body_media")
                            .and_then(|m| m.get("url"))
                            .and_then(|u| u.as_str())
                    {
                        self.fetch_body(
                            room_id,
                            revision.kind,
                            &revision.object_id,
                            &event.event_id,
                            url,
                        )
                        .await?;
                    }
                }
            }
            // Tools' commented objects (cards): read back when the room was rewritten — a
            // rebuild, or state the index had missed — not on every periodic pass, which would
            // ask the homeserver for the threads of every event of every card.
            if rewritten {
                for event in &events {
                    if let Some(comments) = crate::tools::commented(&event.event_type) {
                        self.fetch_tool_history(room_id, event, comments).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads back the earlier events of a tool's commented object (its line of history, linked
    /// by `replaces_state`) through the tool's planner, then the comments in the threads of
    /// each of its events.
    async fn fetch_tool_history(
        &self,
        room_id: &RoomId,
        current: &crate::projection::RoomEvent,
        comments: &crate::tools::ToolComments,
    ) -> Result<(), JobError> {
        let table = comments.events_table;
        let Some(object) = current.state_key.as_deref() else {
            return Ok(());
        };
        let known = format!("SELECT event_id FROM {table} WHERE event_id = $1");
        let mut previous = current.unsigned.replaces_state.clone();
        while let Some(event_id) = previous.take() {
            if !self
                .index
                .tool_rows(&known, vec![event_id.as_str().into()])
                .await?
                .is_empty()
            {
                break;
            }
            let Some(event) = self.earlier_event(room_id, &event_id).await? else {
                break;
            };
            if event.event_type != comments.event_type || event.state_key.as_deref() != Some(object)
            {
                break;
            }
            self.index
                .apply_tool_writes(
                    &event.room_id,
                    crate::projection::tool_writes(&self.identity, &event),
                )
                .await?;
            previous = event.unsigned.replaces_state.clone();
        }
        let roots = self
            .index
            .tool_rows(
                &format!("SELECT event_id FROM {table} WHERE room_id = $1 AND object_id = $2"),
                vec![room_id.as_str().into(), object.into()],
            )
            .await?;
        let mut found = Vec::new();
        for root in roots
            .iter()
            .filter_map(|row| row.first().and_then(crate::tools::SqlValue::as_text))
        {
            let Ok(root) = OwnedEventId::try_from(root) else {
                continue;
            };
            found.extend(
                self.relating_events(room_id, &root, RelationType::Thread)
                    .await?
                    .iter()
                    .filter_map(CommentRow::from_event),
            );
        }
        if !found.is_empty() {
            self.index.put_comments(found).await?;
        }
        Ok(())
    }

    /// Indexes an event Parvis has just sent as a user (a reaction, its redaction), read back
    /// from the homeserver as the bot, so the index shows it at once: the homeserver's delivery
    /// of it may wait behind its backoff after Parvis was unreachable, and is then a repeat
    /// (deduplicated by event ID). Read back rather than rebuilt, so the index holds the event
    /// as a rebuild would (the homeserver's timestamp included).
    pub async fn index_sent(&self, room_id: &RoomId, event_id: &EventId) -> Result<(), JobError> {
        let request = get_room_event::v3::Request::new(room_id.to_owned(), event_id.to_owned());
        let raw = self.intents.bot().send(request).await?.event;
        let events = crate::ingest::room_events(std::slice::from_ref(&raw));
        let report = self.index.ingest(&self.identity, &events).await?;
        // What it calls for (a notice to the room…) is done now, not at the next poll.
        if report.jobs > 0 {
            self.jobs_waiting.notify_one();
        }
        Ok(())
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
            Err(error) if error.kind() == Some(&ErrorKind::NotFound) => {
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
        kind: PublicationKind,
        object_id: &str,
        event_id: &EventId,
        url: &str,
    ) -> Result<(), JobError> {
        let Some(revision) = self
            .index
            .revisions(room_id, kind, object_id)
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
            .set_publication_body(room_id, kind, object_id, event_id, &body)
            .await?;
        Ok(())
    }

    /// Reads the comments (thread messages) on every revision of the object `revision` is one of.
    pub(super) async fn fetch_comments(
        &self,
        room_id: &RoomId,
        revision: &RevisionRow,
    ) -> Result<(), JobError> {
        let revisions = self
            .index
            .revisions(room_id, revision.kind, &revision.object_id)
            .await?;
        let mut comments = Vec::new();
        for root in revisions {
            comments.extend(
                self.relating_events(room_id, &root.event_id, RelationType::Thread)
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
    pub(super) async fn fetch_tool_relations(
        &self,
        room_id: &RoomId,
        revision: &RevisionRow,
    ) -> Result<(), JobError> {
        let relations = crate::tools::history_relations();
        if relations.is_empty() {
            return Ok(());
        }
        let mut roots: Vec<(OwnedEventId, bool)> = self
            .index
            .revisions(room_id, revision.kind, &revision.object_id)
            .await?
            .into_iter()
            .map(|root| (root.event_id, true))
            .collect();
        let mut found = Vec::new();
        while let Some((root, first_level)) = roots.pop() {
            for relation in &relations {
                for event in self
                    .relating_events(room_id, &root, RelationType::from(*relation))
                    .await?
                {
                    let by_bot = event.sender == self.identity.bot;
                    if !by_bot && event.event_type == "m.room.encrypted" {
                        // A reaction in an encrypted room: its relation is in clear, the rest
                        // is read with the room key.
                        self.plan_encrypted_for_tools(room_id, &event).await?;
                        continue;
                    }
                    if !by_bot && !crate::tools::owns(&event.event_type) {
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

    /// Decrypts an encrypted event found by relation and gives it to the tools' planners;
    /// one whose key has not come is left for a later reconcile.
    async fn plan_encrypted_for_tools(
        &self,
        room_id: &RoomId,
        event: &crate::projection::RoomEvent,
    ) -> Result<(), JobError> {
        let Some(crypto) = &self.crypto else {
            return Ok(());
        };
        let Ok(raw) = serde_json::value::to_raw_value(event) else {
            return Ok(());
        };
        let Ok(decrypted) = crypto.decrypt(room_id, &Raw::from_json(raw)).await else {
            return Ok(());
        };
        let Ok(decrypted) = serde_json::from_str::<serde_json::Value>(decrypted.json().get())
        else {
            return Ok(());
        };
        self.plan_decrypted_for_tools(&room_id.to_owned(), &decrypted)
            .await
    }

    /// Every event related to `root` by `relation`, all pages read.
    pub(super) async fn relating_events(
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
                Err(error)
                    if matches!(
                        error.kind(),
                        Some(ErrorKind::NotFound | ErrorKind::Forbidden)
                    ) =>
                {
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

    /// An earlier event of a room's history, as a walk back along `replaces_state` reads it:
    /// decrypted when it is encrypted state, `None` where the bot may not see it (before it
    /// joined) or it is not a room event, which ends the walk.
    async fn earlier_event(
        &self,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> Result<Option<crate::projection::RoomEvent>, JobError> {
        let request = get_room_event::v3::Request::new(room_id.to_owned(), event_id.to_owned());
        let raw = match self.intents.bot().send(request).await {
            Ok(response) => response.event,
            Err(error)
                if matches!(
                    error.kind(),
                    Some(ErrorKind::NotFound | ErrorKind::Forbidden)
                ) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        let Some(mut event) = crate::ingest::room_events(std::slice::from_ref(&raw)).pop() else {
            return Ok(None);
        };
        if let Some(crypto) = &self.crypto {
            crate::encrypted_state::decrypt_state(
                crypto,
                &self.index,
                std::slice::from_mut(&mut event),
            )
            .await;
        }
        Ok(Some(event))
    }

    /// Follows `replaces_state` back from `previous` until a revision the index already has.
    pub(super) async fn fetch_revision_history(
        &self,
        room_id: &RoomId,
        mut previous: Option<OwnedEventId>,
    ) -> Result<(), JobError> {
        let mut revisions = Vec::new();
        while let Some(event_id) = previous.take() {
            if self.index.has_revision(&event_id).await? {
                break;
            }
            let Some(event) = self.earlier_event(room_id, &event_id).await? else {
                break;
            };
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
}
