//! Communities: a Matrix space with its rooms, and the roles of its members.
//!
//! This module only *plans*: it turns a request for a community into the ruma `createRoom`
//! requests and state events the bot then sends (see [`crate::bot`]). Roles are power levels,
//! so the homeserver itself enforces who may write what.

use ruma::{
    Int, OwnedRoomId, OwnedServerName, OwnedUserId, RoomVersionId,
    api::client::room::{Visibility, create_room::v3 as create_room},
    events::{
        InitialStateEvent, TimelineEventType,
        room::{
            join_rules::RoomJoinRulesEventContent, power_levels::RoomPowerLevelsEventContent,
            topic::RoomTopicEventContent,
        },
        space::{child::SpaceChildEventContent, parent::SpaceParentEventContent},
    },
    room::{AllowRule, JoinRule, Restricted, RoomType},
    serde::Raw,
};

use crate::events::{
    CommunityEventContent, CommunityRoomEventContent, RoomPurpose, WidgetEventContent,
    WidgetLayoutEventContent, WidgetPlacement,
};

pub use crate::role::Role;

/// Event types of the community itself and of room settings, and the least role that may send
/// them. Each tool adds the types it owns ([`crate::tools::Tool::events`]); [`event_roles`] lists
/// both, and every room of a community is created knowing them.
pub const COMMUNITY_EVENT_ROLES: &[(&str, Role)] = &[
    // The community itself.
    ("org.parvis.community", Role::Owner),
    ("org.parvis.community.room", Role::Owner),
    ("m.space.child", Role::Moderator),
    ("m.space.parent", Role::Owner),
    // Room settings.
    ("m.room.power_levels", Role::Owner),
    ("m.room.join_rules", Role::Owner),
    ("m.room.history_visibility", Role::Owner),
    ("m.room.encryption", Role::Owner),
    ("m.room.server_acl", Role::Owner),
    ("m.room.tombstone", Role::Owner),
    ("m.room.name", Role::Moderator),
    ("m.room.topic", Role::Moderator),
    ("m.room.avatar", Role::Moderator),
    ("m.room.canonical_alias", Role::Moderator),
    ("m.room.pinned_events", Role::Moderator),
    ("im.vector.modular.widgets", Role::Moderator),
    ("io.element.widgets.layout", Role::Moderator),
];

/// Every event type a community's power levels name, with the least role that may send it:
/// the community's own, then each registered tool's.
pub fn event_roles() -> impl Iterator<Item = (&'static str, Role)> {
    COMMUNITY_EVENT_ROLES.iter().copied().chain(
        crate::tools::TOOLS
            .iter()
            .flat_map(|tool| tool.events.iter().copied()),
    )
}

/// What Parvis needs to know of the room version the homeserver will use.
#[derive(Clone, Debug)]
pub struct RoomVersionFacts {
    /// Room creators have unlimited power and must not be listed in `power_levels.users`
    /// (room version 12 and later).
    pub privileged_creators: bool,
    /// `restricted` join rules (join if a member of the space) are available.
    pub restricted_join_rule: bool,
}

impl RoomVersionFacts {
    /// The facts of `version`; unknown versions are treated like the newest known one.
    pub fn of(version: &RoomVersionId) -> Self {
        let rules = version
            .rules()
            .unwrap_or(ruma::room_version_rules::RoomVersionRules::V12);
        Self {
            privileged_creators: rules.authorization.explicitly_privilege_room_creators,
            restricted_join_rule: rules.authorization.restricted_join_rule,
        }
    }
}

/// A community to create, and everything needed to plan its rooms.
#[derive(Clone, Debug)]
pub struct CommunityBlueprint {
    /// The community's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Enabled tools.
    pub tools: Vec<RoomPurpose>,
    /// The user who becomes owner (invited to every room, power level 100).
    pub owner: OwnedUserId,
    /// The bot, creator of the rooms.
    pub bot: OwnedUserId,
    /// The homeserver's name, for `via` in space links.
    pub server_name: OwnedServerName,
    /// Facts of the room version the homeserver will use.
    pub room_version: RoomVersionFacts,
    /// Where browsers reach Parvis's web pages (for the tool widgets), without trailing slash.
    pub web_url: String,
    /// Whether the rooms (not the space) are end-to-end encrypted, their Parvis state included
    /// (MSC4362).
    pub encrypted: bool,
}

impl CommunityBlueprint {
    /// The rooms of the community other than the space, in the order they are listed.
    pub fn rooms(&self) -> Vec<RoomPurpose> {
        RoomPurpose::BASE
            .into_iter()
            .chain(self.tools.iter().copied())
            .collect()
    }

    /// The power levels of every room of the community.
    pub fn power_levels(&self) -> RoomPowerLevelsEventContent {
        let rules = ruma::room_version_rules::AuthorizationRules::V12;
        let mut levels = RoomPowerLevelsEventContent::new(&rules);
        let level = |role: Role| Int::new_saturating(role.power_level());
        levels.users_default = level(Role::Member);
        levels.events_default = level(Role::Member);
        levels.state_default = level(Role::Moderator);
        levels.invite = level(Role::Moderator);
        levels.kick = level(Role::Moderator);
        levels.ban = level(Role::Moderator);
        levels.redact = level(Role::Moderator);
        levels.events = event_roles()
            .map(|(event_type, role)| (TimelineEventType::from(event_type), level(role)))
            .collect();
        levels.users.clear();
        levels.users.insert(self.owner.clone(), level(Role::Owner));
        if !self.room_version.privileged_creators {
            levels.users.insert(self.bot.clone(), level(Role::Owner));
        }
        levels
    }

    /// The `createRoom` request of the community's space.
    pub fn space_request(&self) -> create_room::Request {
        let mut request = self.base_request(self.name.clone());
        let mut creation = create_room::CreationContent::new();
        creation.room_type = Some(RoomType::Space);
        // Serialising a plain struct cannot fail.
        request.creation_content = Raw::new(&creation).ok();
        request.initial_state.push(
            InitialStateEvent::with_empty_state_key(CommunityEventContent {
                name: self.name.clone(),
                description: self.description.clone(),
                tools: self.tools.clone(),
                requested_by: self.owner.clone(),
            })
            .to_raw_any(),
        );
        request.initial_state.push(
            InitialStateEvent::with_empty_state_key(RoomJoinRulesEventContent::new(
                JoinRule::Invite,
            ))
            .to_raw_any(),
        );
        request
    }

    /// The `createRoom` request of the room for `purpose`, once the space exists.
    pub fn room_request(&self, purpose: RoomPurpose, space: &OwnedRoomId) -> create_room::Request {
        let mut request = self.base_request(format!("{} · {}", self.name, purpose.title()));
        request.initial_state.push(
            InitialStateEvent::with_empty_state_key(CommunityRoomEventContent {
                community: space.clone(),
                purpose,
            })
            .to_raw_any(),
        );
        if self.encrypted {
            // Messages and, with MSC4362, state events of Parvis's tools are encrypted. The
            // room's own settings written here at creation (name, community link, widget) are
            // not: the homeserver needs them, and the bot writes them before anyone joins.
            let encryption = serde_json::json!({
                "type": "m.room.encryption",
                "state_key": "",
                "content": {
                    "algorithm": "m.megolm.v1.aes-sha2",
                    "io.element.msc4362.encrypt_state_events": true,
                },
            });
            if let Ok(raw) = serde_json::value::to_raw_value(&encryption) {
                request.initial_state.push(Raw::from_json(raw));
            }
        }
        let mut parent = SpaceParentEventContent::new(vec![self.server_name.clone()]);
        parent.canonical = true;
        request
            .initial_state
            .push(InitialStateEvent::new(space.clone(), parent).to_raw_any());
        let join_rule = if self.room_version.restricted_join_rule {
            JoinRule::Restricted(Restricted::new(vec![AllowRule::room_membership(
                space.clone(),
            )]))
        } else {
            JoinRule::Invite
        };
        request.initial_state.push(
            InitialStateEvent::with_empty_state_key(RoomJoinRulesEventContent::new(join_rule))
                .to_raw_any(),
        );
        // Element shows the tool's page as a widget pinned at the top of the room.
        if let Some(tool) = widget_route(purpose) {
            let id = format!("parvis_{}", purpose.as_str());
            let widget = WidgetEventContent {
                id: id.clone(),
                widget_type: "m.custom".to_owned(),
                url: format!(
                    "{}/widgets/widget.html#/c/{space}{}{tool}?widgetId=$matrix_widget_id&userId=$matrix_user_id&roomId=$matrix_room_id&displayName=$matrix_display_name",
                    self.web_url,
                    if tool.is_empty() { "" } else { "/" },
                ),
                name: purpose.title().to_owned(),
                data: Default::default(),
                creator_user_id: self.bot.clone(),
                wait_for_iframe_load: true,
            };
            let placement = WidgetPlacement {
                container: "top".to_owned(),
                index: 0,
                width: 100,
                height: 60,
            };
            let layout = WidgetLayoutEventContent {
                widgets: [(id.clone(), placement)].into(),
            };
            request
                .initial_state
                .push(InitialStateEvent::new(id, widget).to_raw_any());
            request
                .initial_state
                .push(InitialStateEvent::with_empty_state_key(layout).to_raw_any());
        }
        request
    }

    /// The `m.space.child` content linking a room into the space.
    pub fn space_child(&self, position: usize) -> SpaceChildEventContent {
        let mut child = SpaceChildEventContent::new(vec![self.server_name.clone()]);
        // Zero-padded so the lexicographic order clients sort by is the listing order.
        child.order = format!("{position:04}").as_str().try_into().ok();
        child.suggested = true;
        child
    }

    fn base_request(&self, name: String) -> create_room::Request {
        let mut request = create_room::Request::new();
        request.name = Some(name);
        if !self.description.is_empty() {
            request.initial_state.push(
                InitialStateEvent::with_empty_state_key(RoomTopicEventContent::new(
                    self.description.clone(),
                ))
                .to_raw_any(),
            );
        }
        request.visibility = Visibility::Private;
        request.preset = Some(create_room::RoomPreset::PrivateChat);
        request.invite = vec![self.owner.clone()];
        request.power_level_content_override = Raw::new(&self.power_levels()).ok().map(Raw::cast);
        request
    }
}

/// The web app's route of a room's widget: the community's home in its home room, the page of
/// the tool that gives its room a widget in the others.
fn widget_route(purpose: RoomPurpose) -> Option<&'static str> {
    match purpose {
        RoomPurpose::Home => Some(""),
        _ => crate::tools::widget_of(purpose),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::{owned_room_id, owned_server_name, owned_user_id};
    use serde_json::{Value, json};

    use super::*;

    fn blueprint(version: RoomVersionId) -> CommunityBlueprint {
        CommunityBlueprint {
            name: "Projet Alpha".to_owned(),
            description: "Un projet".to_owned(),
            tools: vec![RoomPurpose::Wiki],
            owner: owned_user_id!("@alice:hs"),
            bot: owned_user_id!("@parvis:hs"),
            server_name: owned_server_name!("hs"),
            room_version: RoomVersionFacts::of(&version),
            web_url: "https://parvis.example".to_owned(),
            encrypted: false,
        }
    }

    fn to_json<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn roles_map_to_levels_and_back() {
        for role in [Role::Reader, Role::Member, Role::Moderator, Role::Owner] {
            assert_eq!(Role::from_power_level(role.power_level()), role);
        }
        assert_eq!(Role::from_power_level(75), Role::Moderator);
    }

    #[test]
    fn power_levels_give_the_owner_100_and_list_custom_types() {
        let levels = to_json(&blueprint(RoomVersionId::V12).power_levels());
        assert_eq!(
            levels["users"],
            json!({"@alice:hs": 100}),
            "v12 creators are not listed"
        );
        assert_eq!(levels["events"]["org.parvis.community"], 100);
        assert_eq!(levels["events"]["org.parvis.wiki.page"], 0);
        assert_eq!(levels["events"]["org.parvis.faq.entry"], 50);
        // 50 is the spec's default, so it is left out of the JSON.
        assert_eq!(
            blueprint(RoomVersionId::V12).power_levels().state_default,
            Int::from(50)
        );
        let v10 = to_json(&blueprint(RoomVersionId::V10).power_levels());
        assert_eq!(
            v10["users"]["@parvis:hs"], 100,
            "before v12 the bot needs an explicit level"
        );
    }

    #[test]
    fn space_request_is_a_space_with_community_state() {
        let request = blueprint(RoomVersionId::V12).space_request();
        assert_eq!(to_json(&request.creation_content)["type"], "m.space");
        assert_eq!(request.invite, vec![owned_user_id!("@alice:hs")]);
        let state: Vec<Value> = request.initial_state.iter().map(to_json).collect();
        let community = state
            .iter()
            .find(|e| e["type"] == "org.parvis.community")
            .unwrap();
        assert_eq!(community["content"]["name"], "Projet Alpha");
        assert_eq!(community["content"]["tools"], json!(["wiki"]));
        assert_eq!(community["state_key"], "");
    }

    #[test]
    fn room_request_links_to_the_space() {
        let space = owned_room_id!("!space:hs");
        let request = blueprint(RoomVersionId::V12).room_request(RoomPurpose::Wiki, &space);
        assert_eq!(request.name.as_deref(), Some("Projet Alpha · Wiki"));
        let state: Vec<Value> = request.initial_state.iter().map(to_json).collect();
        let parent = state
            .iter()
            .find(|e| e["type"] == "m.space.parent")
            .unwrap();
        assert_eq!(parent["state_key"], "!space:hs");
        let join = state
            .iter()
            .find(|e| e["type"] == "m.room.join_rules")
            .unwrap();
        assert_eq!(join["content"]["join_rule"], "restricted");
        let room = state
            .iter()
            .find(|e| e["type"] == "org.parvis.community.room")
            .unwrap();
        assert_eq!(
            room["content"],
            json!({"community": "!space:hs", "purpose": "wiki"})
        );
        let widget = state
            .iter()
            .find(|e| e["type"] == "im.vector.modular.widgets")
            .unwrap();
        assert_eq!(widget["state_key"], "parvis_wiki");
        let url = widget["content"]["url"].as_str().unwrap();
        assert!(
            url.starts_with("https://parvis.example/widgets/widget.html#/c/!space:hs/wiki?"),
            "{url}"
        );
        assert!(
            url.contains("userId=$matrix_user_id&roomId=$matrix_room_id"),
            "{url}"
        );
        let layout = state
            .iter()
            .find(|e| e["type"] == "io.element.widgets.layout")
            .unwrap();
        assert_eq!(
            layout["content"]["widgets"]["parvis_wiki"]["container"],
            "top"
        );
    }

    #[test]
    fn rooms_are_base_then_tools() {
        let plan = blueprint(RoomVersionId::V12);
        assert_eq!(
            plan.rooms(),
            vec![
                RoomPurpose::Home,
                RoomPurpose::Discussion,
                RoomPurpose::Wiki
            ]
        );
        assert_eq!(to_json(&plan.space_child(1))["order"], "0001");
    }
}
