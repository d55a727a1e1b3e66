//! What the bot accepts from people, as sans-I/O rules: whose invitations it takes, how many
//! commands it answers per user and per room, how many communities one user may have.
//!
//! The bot acts with its own power in every room it is in; without these bounds one member, or a
//! user of any federated server, could make it join rooms without end or run commands faster
//! than it answers them, and every community on the homeserver would wait behind them.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use ruma::{OwnedRoomId, OwnedServerName, OwnedUserId, RoomId, UserId};

/// Whose invitations the bot accepts (`bot.invite_servers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitePolicy {
    /// The bot's own homeserver: its users may always invite it.
    pub local_server: OwnedServerName,
    /// Other servers whose users may; `None` for every server.
    pub other_servers: Option<Vec<String>>,
}

impl InvitePolicy {
    /// The policy of `bot.invite_servers` (`["*"]` for any server).
    pub fn new(local_server: OwnedServerName, invite_servers: &[String]) -> Self {
        let other_servers = (!invite_servers.iter().any(|server| server == "*")).then(|| {
            invite_servers
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect()
        });
        Self {
            local_server,
            other_servers,
        }
    }

    /// Whether an invitation from `inviter` is accepted.
    pub fn accepts(&self, inviter: &UserId) -> bool {
        let server = inviter.server_name();
        server == self.local_server
            || self.other_servers.as_ref().is_none_or(|allowed| {
                allowed
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(server.as_str()))
            })
    }
}

/// The answer of [`CommandLimits::admit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Run the command.
    Run,
    /// Over the limit: say so (once a minute for a sender).
    Refuse,
    /// Over the limit, and already told: say nothing.
    Ignore,
}

/// How many commands per minute the bot answers, per sender and per room: a fixed window per
/// key, a minute long, so the counts need no clock but the caller's.
#[derive(Debug)]
pub struct CommandLimits {
    per_user: u32,
    per_room: u32,
    users: HashMap<OwnedUserId, Window>,
    rooms: HashMap<OwnedRoomId, Window>,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    count: u32,
    told: bool,
}

/// The length of a rate-limit window.
const WINDOW: Duration = Duration::from_secs(60);
/// Most keys remembered, so that a flood of senders cannot grow the tables without bound.
const MAX_KEYS: usize = 50_000;

impl CommandLimits {
    /// Limits of `per_user` and `per_room` commands a minute (0 for no limit).
    pub fn new(per_user: u32, per_room: u32) -> Self {
        Self {
            per_user,
            per_room,
            users: HashMap::new(),
            rooms: HashMap::new(),
        }
    }

    /// Counts a command of `sender` in `room` at `now`, and says whether to run it.
    pub fn admit(&mut self, sender: &UserId, room: &RoomId, now: Instant) -> Admission {
        for table in [&mut self.users as &mut dyn WindowTable, &mut self.rooms] {
            table.forget_before(now);
        }
        let user = window(&mut self.users, sender.to_owned(), now);
        let user_over = self.per_user > 0 && user.count >= self.per_user;
        let room_window = window(&mut self.rooms, room.to_owned(), now);
        let room_over = self.per_room > 0 && room_window.count >= self.per_room;
        if !user_over && !room_over {
            room_window.count += 1;
            if let Some(user) = self.users.get_mut(sender) {
                user.count += 1;
            }
            return Admission::Run;
        }
        let Some(user) = self.users.get_mut(sender) else {
            return Admission::Ignore;
        };
        if user.told {
            Admission::Ignore
        } else {
            user.told = true;
            Admission::Refuse
        }
    }
}

fn window<K: std::hash::Hash + Eq>(
    table: &mut HashMap<K, Window>,
    key: K,
    now: Instant,
) -> &mut Window {
    let entry = table.entry(key).or_insert(Window {
        started: now,
        count: 0,
        told: false,
    });
    if now.duration_since(entry.started) >= WINDOW {
        *entry = Window {
            started: now,
            count: 0,
            told: false,
        };
    }
    entry
}

/// The windows of one kind of key, pruned as time goes.
trait WindowTable {
    /// Drops the windows that ended, and the oldest ones when the table is full.
    fn forget_before(&mut self, now: Instant);
}

impl<K: std::hash::Hash + Eq> WindowTable for HashMap<K, Window> {
    fn forget_before(&mut self, now: Instant) {
        if self.len() < MAX_KEYS {
            return;
        }
        self.retain(|_, window| now.duration_since(window.started) < WINDOW);
        if self.len() >= MAX_KEYS {
            // Every window is live: a flood. Start counting again rather than grow.
            self.clear();
        }
    }
}

/// Whether `owner` may have one more community, having `owned` (`bot.communities_per_user`,
/// 0 for no limit).
pub fn may_create_community(owned: usize, limit: u32) -> bool {
    limit == 0 || owned < limit as usize
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ruma::{owned_server_name, room_id, user_id};

    use super::*;

    #[test]
    fn only_local_users_invite_the_bot_by_default() {
        let policy = InvitePolicy::new(owned_server_name!("ministere.gouv.fr"), &[]);
        assert!(policy.accepts(user_id!("@agent:ministere.gouv.fr")));
        assert!(!policy.accepts(user_id!("@stranger:evil.example")));
        let partners = InvitePolicy::new(
            owned_server_name!("ministere.gouv.fr"),
            &["Partenaire.fr".to_owned()],
        );
        assert!(partners.accepts(user_id!("@p:partenaire.fr")));
        assert!(!partners.accepts(user_id!("@stranger:evil.example")));
        let anyone = InvitePolicy::new(owned_server_name!("ministere.gouv.fr"), &["*".to_owned()]);
        assert!(anyone.accepts(user_id!("@stranger:evil.example")));
    }

    #[test]
    fn a_flooding_member_is_refused_once_then_ignored_until_the_next_minute() {
        let mut limits = CommandLimits::new(3, 100);
        let (alice, room) = (user_id!("@alice:hs"), room_id!("!r:hs"));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limits.admit(alice, room, start), Admission::Run);
        }
        assert_eq!(limits.admit(alice, room, start), Admission::Refuse);
        assert_eq!(limits.admit(alice, room, start), Admission::Ignore);
        // Someone else in the same room is not held up by Alice.
        assert_eq!(
            limits.admit(user_id!("@bob:hs"), room, start),
            Admission::Run
        );
        let later = start + WINDOW;
        assert_eq!(limits.admit(alice, room, later), Admission::Run);
    }

    #[test]
    fn a_room_has_a_limit_of_its_own() {
        let mut limits = CommandLimits::new(100, 2);
        let room = room_id!("!r:hs");
        let now = Instant::now();
        assert_eq!(limits.admit(user_id!("@a:hs"), room, now), Admission::Run);
        assert_eq!(limits.admit(user_id!("@b:hs"), room, now), Admission::Run);
        assert_eq!(
            limits.admit(user_id!("@c:hs"), room, now),
            Admission::Refuse
        );
        assert_eq!(
            limits.admit(user_id!("@c:hs"), room_id!("!other:hs"), now),
            Admission::Run
        );
    }

    #[test]
    fn community_quota() {
        assert!(may_create_community(0, 1));
        assert!(!may_create_community(1, 1));
        assert!(may_create_community(1000, 0));
    }
}
