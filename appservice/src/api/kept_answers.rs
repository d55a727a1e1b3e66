//! Answers kept until their room changes. An answer computed from what the index holds of a
//! room (a board of thousands of cards, say) is kept ready to send, with the room's change
//! stamp at the time it was read; it is sent again while the room keeps that stamp. The index
//! gives a room a new random stamp in every write that changes it, on whichever instance, so a
//! kept answer is never older than the room's last write that a reader could see.
//!
//! Bounded by bytes: past the budget, the answers least recently sent go first.

use std::{collections::HashMap, sync::Mutex};

use axum::{
    body::Bytes,
    http::header,
    response::{IntoResponse, Response},
};
use ruma::{OwnedRoomId, RoomId};

/// The answers kept, by room and by what the answer is (a key of the route's choosing).
#[derive(Debug)]
pub struct KeptAnswers {
    budget: usize,
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    answers: HashMap<(OwnedRoomId, String), Answer>,
    bytes: usize,
    /// Counts every use, to find the answer least recently sent.
    clock: u64,
}

#[derive(Debug)]
struct Answer {
    stamp: i64,
    body: Bytes,
    used: u64,
}

impl KeptAnswers {
    /// Keeps at most `budget` bytes of answers.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            kept: Mutex::default(),
        }
    }

    /// The answer `key` of `room`, if one was kept while the room had `stamp`.
    pub fn get(&self, room: &RoomId, key: &str, stamp: i64) -> Option<Bytes> {
        let mut kept = self.kept.lock().ok()?;
        kept.clock += 1;
        let clock = kept.clock;
        let answer = kept.answers.get_mut(&(room.to_owned(), key.to_owned()))?;
        if answer.stamp != stamp {
            return None;
        }
        answer.used = clock;
        Some(answer.body.clone())
    }

    /// Keeps `body` as the answer `key` of `room` while it has `stamp`, in place of any older
    /// one; an answer larger than a quarter of the budget is not kept.
    pub fn keep(&self, room: &RoomId, key: &str, stamp: i64, body: Bytes) {
        if body.len() > self.budget / 4 {
            return;
        }
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        kept.clock += 1;
        let used = kept.clock;
        let size = body.len();
        if let Some(old) = kept.answers.insert(
            (room.to_owned(), key.to_owned()),
            Answer { stamp, body, used },
        ) {
            kept.bytes -= old.body.len();
        }
        kept.bytes += size;
        while kept.bytes > self.budget {
            let Some(oldest) = kept
                .answers
                .iter()
                .min_by_key(|(_, answer)| answer.used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some(gone) = kept.answers.remove(&oldest) {
                kept.bytes -= gone.body.len();
            }
        }
    }

    /// How many bytes of answers are kept.
    pub fn bytes(&self) -> usize {
        self.kept.lock().map_or(0, |kept| kept.bytes)
    }
}

/// A JSON answer already serialized (kept, or just computed and kept).
#[derive(Debug)]
pub struct JsonBytes(pub Bytes);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use ruma::room_id;

    use super::*;

    #[test]
    fn an_answer_is_sent_again_only_while_its_room_keeps_its_stamp() {
        let kept = KeptAnswers::new(1000);
        let room = room_id!("!tasks:example.org");
        kept.keep(room, "board/a", 7, Bytes::from_static(b"[1]"));
        assert_eq!(kept.get(room, "board/a", 7).as_deref(), Some(&b"[1]"[..]));
        // The room changed: the stamp moved.
        assert_eq!(kept.get(room, "board/a", 8), None);
        // Another answer, another room.
        assert_eq!(kept.get(room, "board/b", 7), None);
        assert_eq!(kept.get(room_id!("!other:example.org"), "board/a", 7), None);
        // A newer answer takes the place of the older one.
        kept.keep(room, "board/a", 8, Bytes::from_static(b"[1,2]"));
        assert_eq!(kept.get(room, "board/a", 8).as_deref(), Some(&b"[1,2]"[..]));
        assert_eq!(kept.get(room, "board/a", 7), None);
        assert_eq!(kept.bytes(), 5);
    }

    #[test]
    fn past_the_budget_the_answers_least_recently_sent_go() {
        let kept = KeptAnswers::new(100);
        let room = room_id!("!tasks:example.org");
        let body = || Bytes::from(vec![b'x'; 20]);
        for key in ["a", "b", "c", "d"] {
            kept.keep(room, key, 1, body());
        }
        // "a" is sent again: "b" is now the least recently sent.
        assert!(kept.get(room, "a", 1).is_some());
        kept.keep(room, "e", 1, body());
        kept.keep(room, "f", 1, body());
        assert!(kept.bytes() <= 100);
        assert!(kept.get(room, "a", 1).is_some());
        assert_eq!(kept.get(room, "b", 1), None);
        assert!(kept.get(room, "f", 1).is_some());
        // Too large to keep at all.
        kept.keep(room, "huge", 1, Bytes::from(vec![b'x'; 26]));
        assert_eq!(kept.get(room, "huge", 1), None);
    }
}
