//! Intents: the appservice acting as one of its users.
//!
//! An [`Intent`] remembers what it already ensured (registration, room joins), so asking again
//! is free and asking after a restart is still correct: each operation is idempotent on the
//! homeserver too (`M_USER_IN_USE` on register, a join of a joined room is a no-op).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use ruma::{
    OwnedRoomId, OwnedUserId, RoomId, UserId,
    api::{
        OutgoingRequest,
        auth_scheme::{AuthScheme, SendAccessToken},
        client::{
            account::register::{self, LoginType},
            membership::join_room_by_id,
        },
        error::ErrorKind,
    },
};
use tokio::sync::OnceCell;

use crate::client::{ClientError, HomeserverClient, HomeserverError, PathInput};

/// One virtual user of the appservice (or its bot).
#[derive(Debug)]
pub struct Intent {
    client: HomeserverClient,
    user_id: OwnedUserId,
    registered: OnceCell<()>,
    joined: Mutex<HashSet<OwnedRoomId>>,
}

impl Intent {
    fn new(client: HomeserverClient, user_id: OwnedUserId) -> Self {
        Self {
            client,
            user_id,
            registered: OnceCell::new(),
            joined: Mutex::new(HashSet::new()),
        }
    }

    /// The user this intent acts as.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// Registers the user with the homeserver unless that was already done.
    pub async fn ensure_registered(&self) -> Result<(), ClientError> {
        self.registered
            .get_or_try_init(|| async {
                let mut request = register::v3::Request::new();
                request.username = Some(self.user_id.localpart().to_owned());
                request.login_type = Some(LoginType::ApplicationService);
                // MSC4190 appservices create devices themselves; no access token is wanted.
                request.inhibit_login = true;
                match self
                    .client
                    .send_as(request, Some(&self.user_id), None)
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(error) if error.kind() == Some(&ErrorKind::UserInUse) => Ok(()),
                    Err(error) => Err(error),
                }
            })
            .await
            .map(|_| ())
    }

    /// Joins `room_id` unless this intent already knows it is joined.
    pub async fn ensure_joined(&self, room_id: &RoomId) -> Result<(), ClientError> {
        if self.is_joined(room_id) {
            return Ok(());
        }
        self.ensure_registered().await?;
        self.send(join_room_by_id::v3::Request::new(room_id.to_owned()))
            .await?;
        self.mark_joined(room_id);
        Ok(())
    }

    /// Whether this intent knows it is joined to `room_id`.
    pub fn is_joined(&self, room_id: &RoomId) -> bool {
        self.joined
            .lock()
            .map(|joined| joined.contains(room_id))
            .unwrap_or(false)
    }

    /// Records that the user is joined to `room_id` (seen in a transaction, or created the room).
    pub fn mark_joined(&self, room_id: &RoomId) {
        if let Ok(mut joined) = self.joined.lock() {
            joined.insert(room_id.to_owned());
        }
    }

    /// Records that the user left or was removed from `room_id`.
    pub fn mark_left(&self, room_id: &RoomId) {
        if let Ok(mut joined) = self.joined.lock() {
            joined.remove(room_id);
        }
    }

    /// Sends any client-server request as this user.
    pub async fn send<R>(&self, request: R) -> Result<R::IncomingResponse, ClientError>
    where
        R: OutgoingRequest,
        R::EndpointError: HomeserverError,
        R::PathBuilder: PathInput,
        for<'a> R::Authentication: AuthScheme<Input<'a> = SendAccessToken<'a>>,
    {
        self.client
            .send_as(request, Some(&self.user_id), None)
            .await
    }
}

/// The intents of the appservice: its bot and the virtual users it creates on demand.
#[derive(Debug)]
pub struct Intents {
    client: HomeserverClient,
    bot: Arc<Intent>,
    users: Mutex<HashMap<OwnedUserId, Arc<Intent>>>,
}

impl Intents {
    /// The intents of an appservice whose bot is `bot_user_id`: the appservice's own
    /// (`sender_localpart`) user when `bot_is_sender`, else one of its users, registered on
    /// first use like the others.
    pub fn new(client: HomeserverClient, bot_user_id: OwnedUserId, bot_is_sender: bool) -> Self {
        let bot = Arc::new(Intent::new(client.clone(), bot_user_id));
        if bot_is_sender {
            // The homeserver creates the appservice's `sender_localpart` user itself.
            let _ = bot.registered.set(());
        }
        Self {
            client,
            bot,
            users: Mutex::new(HashMap::new()),
        }
    }

    /// The bot's intent.
    pub fn bot(&self) -> &Arc<Intent> {
        &self.bot
    }

    /// The client all intents share.
    pub fn client(&self) -> &HomeserverClient {
        &self.client
    }

    /// The intent of `user_id` (the bot's own when it is the bot).
    pub fn user(&self, user_id: &UserId) -> Arc<Intent> {
        if user_id == self.bot.user_id() {
            return self.bot.clone();
        }
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        users
            .entry(user_id.to_owned())
            .or_insert_with(|| Arc::new(Intent::new(self.client.clone(), user_id.to_owned())))
            .clone()
    }
}
