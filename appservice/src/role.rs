//! Roles: what a member of a community may do, carried by their power level in every room.

/// A member's role in a community, carried by their power level in every room of it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May only read: below the level needed to send messages.
    Reader,
    /// Takes part: messages, wiki pages, cards… (the default for anyone who joins).
    Member,
    /// Moderates: invites, removes content, manages rooms of the space.
    Moderator,
    /// Owns the community: its settings, tools and roles.
    Owner,
}

impl Role {
    /// The power level of the role.
    pub fn power_level(self) -> i64 {
        match self {
            Self::Reader => -1,
            Self::Member => 0,
            Self::Moderator => 50,
            Self::Owner => 100,
        }
    }

    /// The role a power level gives.
    pub fn from_power_level(level: i64) -> Self {
        match level {
            l if l >= 100 => Self::Owner,
            l if l >= 50 => Self::Moderator,
            l if l >= 0 => Self::Member,
            _ => Self::Reader,
        }
    }
}
