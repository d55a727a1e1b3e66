//! Answering `!parvis` commands, and the notices about new revisions.

use super::*;

impl Bot {
    /// Posts a notice about a revision of a published object: who did what, with a link.
    pub(super) async fn announce(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
    ) -> Result<(), JobError> {
        let Some(text) = self.announcement(room_id, event_id).await? else {
            return Ok(());
        };
        let content = RevisionNoticeEventContent::new(text, event_id.clone());
        let Some(notice_id) = self
            .send_message(room_id, derived_txn_id(event_id, "announce"), &content)
            .await?
        else {
            return Ok(());
        };
        // The notice as the homeserver will deliver it, indexed now: what the tools keep of it
        // (a like on it counts for the revision) does not wait for that delivery, which the
        // homeserver backs off after Parvis was unreachable. The delivery is then a repeat.
        let serde_json::Value::Object(content) =
            serde_json::to_value(&content).map_err(|e| ClientError::Request(e.to_string()))?
        else {
            return Ok(());
        };
        let notice = RoomEvent {
            event_id: notice_id,
            room_id: room_id.clone(),
            sender: self.identity.bot.clone(),
            event_type: "m.room.message".to_owned(),
            state_key: None,
            content,
            redacts: None,
            origin_server_ts: ruma::MilliSecondsSinceUnixEpoch::now(),
            unsigned: Default::default(),
        };
        self.index.ingest(&self.identity, &[notice]).await?;
        Ok(())
    }

    pub(super) async fn announcement(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
    ) -> Result<Option<String>, JobError> {
        let Some(revision) = self.index.revision(event_id).await? else {
            return Ok(None);
        };
        let spec = revision.kind.spec();
        let title = revision
            .content
            .get(spec.title_field)
            .and_then(|title| title.as_str())
            .unwrap_or("?");
        let what = spec.noun;
        let verb = if revision.replaces.is_some() {
            "edited"
        } else {
            "created"
        };
        Ok(Some(format!(
            "📄 {} {verb} the {what} “{title}” — https://matrix.to/#/{room_id}/{event_id}",
            revision.sender
        )))
    }

    pub(super) async fn answer(
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
            Ok(Some(Command::New { kind, title, body })) => {
                self.write_new(room_id, event_id, sender, kind, &title, &body)
                    .await?
            }
            Ok(Some(Command::Tool { word, args })) => {
                let outcome = self
                    .run_tool_command(room_id, event_id, sender, word, &args)
                    .await?;
                self.reply_mentioning(room_id, event_id, &outcome.reply, &outcome.mentions)
                    .await?;
                let key = if outcome.success { "✅" } else { "❌" };
                return self.react(room_id, event_id, key).await;
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
    pub(super) async fn community_of(
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

    /// `!parvis {tool} new`: writes the object as the bot, on behalf of a sender who may write
    /// it, in the tool's room of this room's community.
    pub(super) async fn write_new(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        sender: &OwnedUserId,
        kind: PublicationKind,
        title: &str,
        body: &str,
    ) -> Result<(String, bool), JobError> {
        let spec = kind.spec();
        let Some(new) = &spec.new_command else {
            return Ok((
                format!("❌ There is no `{} new` command.", spec.tool),
                false,
            ));
        };
        let Some(community) = self.community_of(room_id).await? else {
            return Ok((
                format!(
                    "❌ Send this command in a room of the community the {} is for.",
                    spec.noun
                ),
                false,
            ));
        };
        let Some((room, _)) = community
            .rooms
            .iter()
            .find(|(_, purpose)| purpose == spec.room.as_str())
        else {
            return Ok((
                format!(
                    "❌ The community “{}” has no {} room.",
                    community.name,
                    spec.room.as_str()
                ),
                false,
            ));
        };
        // The bot may write anything; it writes only what the sender could write themselves.
        if let Err(refusal) = check_writer(&self.index, room, sender, spec.event_type).await? {
            return Ok((format!("❌ {refusal}"), false));
        }
        let mut slug = crate::publishing::render::slugify(title);
        // The object's ID comes from the command, so a retried job rewrites the same object.
        let id = derived_txn_id(event_id, &format!("{}-new", spec.tool))
            .as_str()
            .replace('-', "")[..12]
            .to_owned();
        if spec.unique_slugs {
            let taken = self.index.publications(room, kind).await?;
            if taken
                .iter()
                .any(|object| object.slug == slug && object.object_id != id)
            {
                slug = format!("{slug}-{}", &id[..6]);
            }
        }
        let content = (new.content)(&NewPublication {
            title: title.to_owned(),
            slug,
            body: body.to_owned(),
            requested_by: sender.clone(),
            now: u64::try_from(now_ms()).unwrap_or(0),
        });
        let event_id = self
            .send_state(room, spec.event_type, &id, &content)
            .await?;
        Ok((
            format!(
                "✅ {} “{title}” written: https://matrix.to/#/{room}/{event_id}",
                capitalized(spec.noun)
            ),
            true,
        ))
    }

    /// `!parvis search`: what the sender may read, in this room's community when it is one.
    ///
    /// The answer is posted in the room, for everyone in it to read: it lists only objects every
    /// joined or invited member of this room may read (published, in rooms they have all
    /// joined), and nothing of an encrypted room's into a room that is not encrypted.
    pub(super) async fn search_for(
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
        let here_encrypted = self.is_encrypted(room_id).await?;
        let mut readable_rooms: std::collections::HashMap<OwnedRoomId, bool> = Default::default();
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
            if !readable {
                continue;
            }
            let kind = hit.kind;
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
            let kind = kind.spec().noun;
            text.push_str(&format!(
                "\n{}. {} ({kind}) — https://matrix.to/#/{}",
                rank + 1,
                hit.title,
                hit.room_id
            ));
        }
        Ok(text)
    }

    pub(super) async fn is_encrypted(&self, room_id: &RoomId) -> Result<bool, JobError> {
        Ok(self
            .index
            .state_content(room_id, &StateEventType::RoomEncryption, "")
            .await?
            .is_some())
    }

    /// Whether every one of `audience` has joined `room` — and, when `room` is encrypted,
    /// whether the answer goes into an encrypted room too.
    pub(super) async fn readable_by_all(
        &self,
        room: &RoomId,
        audience: &[OwnedUserId],
        answer_encrypted: bool,
        answer_room: &RoomId,
    ) -> Result<bool, JobError> {
        if room == answer_room {
            return Ok(true);
        }
        if self.is_encrypted(room).await? && !answer_encrypted {
            return Ok(false);
        }
        let joined: HashSet<String> = self
            .index
            .state_events(room, &StateEventType::RoomMember)
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
}

/// `wiki page` → `Wiki page`.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
