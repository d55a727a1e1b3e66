//! Creating communities: the space and its rooms, idempotently.

use super::*;

impl Bot {
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
    pub(super) async fn community_requested_by(&self, event_id: &OwnedEventId) -> bool {
        self.resolve_alias(&self.community_alias(event_id, None))
            .await
            .is_ok_and(|room| room.is_some())
    }

    /// The alias of the space (or of its room for `purpose`) created for the command
    /// `event_id`: in the appservice's namespace, derived from the command, so a retried job
    /// finds what a first attempt created instead of creating a second community.
    pub(super) fn community_alias(
        &self,
        event_id: &OwnedEventId,
        purpose: Option<RoomPurpose>,
    ) -> String {
        let digest = hex::encode(sha2::Sha256::digest(event_id.as_str().as_bytes()));
        let mut localpart = format!("{}c{}", self.identity.user_prefix, &digest[..16]);
        if let Some(purpose) = purpose {
            localpart.push('_');
            localpart.push_str(purpose.as_str());
        }
        localpart
    }

    pub(super) async fn resolve_alias(
        &self,
        localpart: &str,
    ) -> Result<Option<OwnedRoomId>, JobError> {
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
            Err(error) if error.kind() == Some(&ErrorKind::NotFound) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Creates a room, or, when the alias it is created with already names a room (a retried
    /// job), that room.
    pub(super) async fn create_or_find(
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
            Err(error) if error.kind() == Some(&ErrorKind::RoomInUse) => self
                .resolve_alias(&alias)
                .await?
                .ok_or_else(|| error.into()),
            Err(error) => Err(error.into()),
        }
    }

    /// Creates the community of `owner`; with the command's `event_id`, idempotently.
    pub(super) async fn create_community_for(
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

    pub(super) async fn default_room_version(&self) -> Result<RoomVersionId, ClientError> {
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
}
