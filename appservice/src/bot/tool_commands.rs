//! Tools' commands and notices, for people whose client has no widgets: the bot reads the
//! tool's room from the index, the tool decides (sans-I/O) what to write and say, and the bot
//! writes it on the sender's behalf and posts it.

use super::*;
use crate::{
    permission::check_member,
    store::now_ms,
    tools::{self, CommandCall, CommandOutcome, StateChange, StateEntry, Tool, ToolNotice},
};

impl Bot {
    /// Runs the tool command `word` sent by `sender` in `room_id`, in the tool's room of that
    /// room's community. The outcome's reply is for the command's room; its notice has been
    /// posted in the tool's room when that is another room.
    pub(super) async fn run_tool_command(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        sender: &OwnedUserId,
        word: &str,
        args: &[String],
    ) -> Result<CommandOutcome, JobError> {
        let Some((tool, command)) = tools::tool_command(word) else {
            return Ok(CommandOutcome::answer(
                false,
                format!("❌ unknown command `{word}`"),
            ));
        };
        let Some(purpose) = tool.room else {
            return Ok(CommandOutcome::answer(
                false,
                format!("❌ {} has no room", tool.name),
            ));
        };
        let Some(community) = self.community_of(room_id).await? else {
            return Ok(CommandOutcome::answer(
                false,
                format!(
                    "❌ Send this command in a room of the community it is for: the {} are the community's.",
                    tool.name
                ),
            ));
        };
        let Some((room, _)) = community
            .rooms
            .iter()
            .find(|(_, room_purpose)| room_purpose == purpose.as_str())
        else {
            return Ok(CommandOutcome::answer(
                false,
                format!(
                    "❌ The community “{}” has no {} room.",
                    community.name,
                    purpose.as_str()
                ),
            ));
        };
        // The answer may quote the tool's room: only to someone who may read it.
        if let Err(refusal) = check_member(&self.index, room, sender).await? {
            return Ok(CommandOutcome::answer(false, format!("❌ {refusal}")));
        }
        let state = self
            .tool_state(room, tool.events.iter().map(|(t, _)| *t))
            .await?;
        let mut writable = Vec::new();
        for (event_type, _) in tool.events {
            // The bot may write anything; it writes only what the sender could write themselves.
            if check_writer(&self.index, room, sender, event_type)
                .await?
                .is_ok()
            {
                writable.push(*event_type);
            }
        }
        let outcome = (command.run)(&CommandCall {
            sender,
            args,
            state: &state,
            writable: &writable,
            seed: event_id.as_str(),
            now_ms: now_ms(),
        });
        for write in &outcome.writes {
            self.send_state(room, write.event_type, &write.state_key, &write.content)
                .await?;
        }
        if let Some(notice) = &outcome.notice
            && room != room_id
        {
            self.post_notice(room, derived_txn_id(event_id, "tool-notice"), notice)
                .await?;
        }
        Ok(outcome)
    }

    /// The current state of `event_types` in `room`, as the index holds it.
    async fn tool_state(
        &self,
        room: &RoomId,
        event_types: impl Iterator<Item = &'static str>,
    ) -> Result<Vec<StateEntry>, JobError> {
        let mut state = Vec::new();
        for event_type in event_types {
            for (state_key, sender, content) in self
                .index
                .state_events(room, &StateEventType::from(event_type))
                .await?
            {
                state.push(StateEntry {
                    event_type: event_type.to_owned(),
                    state_key,
                    sender,
                    content,
                });
            }
        }
        Ok(state)
    }

    /// Posts a tool's notice, naming (`m.mentions`) the people it concerns.
    pub(super) async fn post_notice(
        &self,
        room_id: &OwnedRoomId,
        txn_id: OwnedTransactionId,
        notice: &ToolNotice,
    ) -> Result<(), JobError> {
        let mut content = sender::notice(notice.body.clone());
        content.mentions = Some(ruma::events::Mentions::with_user_ids(
            notice.mentions.iter().cloned(),
        ));
        self.send_message(room_id, txn_id, &content).await.map(drop)
    }

    /// Answers a command with `text`, naming (`m.mentions`) `mentions`.
    pub(super) async fn reply_mentioning(
        &self,
        room_id: &OwnedRoomId,
        event_id: &OwnedEventId,
        text: &str,
        mentions: &[OwnedUserId],
    ) -> Result<(), JobError> {
        let mut content = sender::notice(text);
        content.mentions = Some(ruma::events::Mentions::with_user_ids(
            mentions.iter().cloned(),
        ));
        content.relates_to = Some(Relation::Reply(Reply::new(InReplyTo::new(
            event_id.clone(),
        ))));
        self.send_message(room_id, derived_txn_id(event_id, "reply"), &content)
            .await
            .map(drop)
    }

    /// Posts the notice a tool words for a change someone made to its state, if it words one.
    pub(super) async fn notify(&self, job: &Job) -> Result<(), JobError> {
        let Job::Notice {
            room_id,
            event_id,
            event_type,
            state_key,
            sender,
            before,
            after,
        } = job
        else {
            return Ok(());
        };
        let Some(notices) =
            tools::announcer(event_type).and_then(|tool: &Tool| tool.notices.as_ref())
        else {
            return Ok(());
        };
        let context = self
            .tool_state(room_id, notices.context.iter().copied())
            .await?;
        let change = StateChange {
            event_type,
            state_key,
            sender,
            before: before.as_ref(),
            after,
            context: &context,
        };
        match (notices.notice)(&change) {
            Some(notice) => {
                self.post_notice(room_id, derived_txn_id(event_id, "notice"), &notice)
                    .await
            }
            None => Ok(()),
        }
    }
}
