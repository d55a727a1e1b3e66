//! The Tasks issue's checks, against a real Synapse and the real `parvis` binary: boards and
//! cards written through Parvis and straight through the homeserver, concurrent moves, the
//! checks a card passes, readers refused twice, the Gantt view's critical path, the CSV export,
//! "my tasks", and a rebuilt index equal to the live one.

#![allow(clippy::unwrap_used)]

use parvis_tests::{
    Database, Stack, TestUser,
    api::{api, create_community, room_of, settled_digest, wait_api},
    http_client, step,
};
use serde_json::{Value, json};

const CARD: &str = "org.parvis.kanban.card";
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::test]
async fn tasks_on_sqlite() {
    boards_cards_concurrency_gantt_and_rebuild(Database::Sqlite).await;
}

#[tokio::test]
async fn tasks_on_postgres() {
    if parvis_tests::skip_without_postgres() {
        return;
    }
    boards_cards_concurrency_gantt_and_rebuild(Database::Postgres).await;
}

async fn boards_cards_concurrency_gantt_and_rebuild(database: Database) {
    let mut s = step(
        "a_community_where_carol_only_reads",
        Scenario::start(database),
    )
    .await;
    let cards = step!(s.a_board_and_its_cards_in_order());
    step!(s.each_problem_is_refused_with_its_errcode(&cards));
    step!(s.a_reader_is_refused_by_parvis_and_by_the_homeserver(&cards));
    step!(s.concurrent_moves_of_one_card_end_in_the_rooms_state(&cards[0]));
    step!(s.concurrent_moves_of_different_cards_both_land(&cards));
    step!(s.the_gantt_view_finds_the_critical_path_and_refuses_a_circle());
    step!(s.the_board_exports_as_csv_and_assignment_reaches_my_tasks(&cards[1]));
    step!(s.without_widgets_commands_and_notices_tell_the_room(&cards[2]));
    step!(s.comments_on_a_card_are_threads_on_any_of_its_events(&cards[2]));
    step!(s.avatars_come_through_parvis_to_members_only());
    step!(s.metrics_show_each_routes_latency_and_the_index_lag());
    step!(s.rebuild_gives_the_same_index());
    s.stack.stop().await;
}

struct Scenario {
    stack: Stack,
    alice: TestUser,
    bob: TestUser,
    carol: TestUser,
    space: String,
    /// The tasks room.
    room: String,
    /// The board's ID.
    board: String,
}

impl Scenario {
    /// Alice's community with a tasks room; Bob a member, Carol a reader there (power level
    /// −1); a board made by Alice through the API.
    async fn start(database: Database) -> Self {
        let stack = Stack::start(database).await.unwrap();
        let alice = stack.register_user("alice").await.unwrap();
        let bob = stack.register_user("bob").await.unwrap();
        let carol = stack.register_user("carol").await.unwrap();
        let created = create_community(&stack, &alice, &["tasks"]).await;
        let space = created["space_id"].as_str().unwrap().to_owned();
        let room = room_of(&created, "tasks");
        alice.join(&space).await.unwrap();
        alice.join(&room).await.unwrap();
        for user in [&bob, &carol] {
            for joined in [&space, &room] {
                alice.invite(joined, user.user_id()).await.unwrap();
                user.join(joined).await.unwrap();
            }
        }
        let mut levels = alice
            .state_event(&room, "m.room.power_levels", "")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(levels["events"][CARD], 0, "members write cards");
        levels["users"][carol.user_id()] = json!(-1);
        alice
            .send_state(&room, "m.room.power_levels", "", levels)
            .await
            .unwrap();
        let boards = format!("/api/v1/communities/{space}/tasks/boards");
        // Carol is a member of the room for Parvis too (her join is indexed) before she reads.
        wait_api(&stack, &carol, &boards, |_| true).await;
        let (status, written) = api(
            &stack,
            &alice,
            "POST",
            &boards,
            Some(json!({"name": "Déménagement"})),
        )
        .await;
        assert_eq!(status, 201, "{written}");
        let board = written["id"].as_str().unwrap().to_owned();
        let list = wait_api(&stack, &bob, &boards, |list| {
            list.as_array().is_some_and(|list| !list.is_empty())
        })
        .await;
        assert_eq!(list[0]["name"], "Déménagement");
        let columns: Vec<&str> = list[0]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|column| column["name"].as_str().unwrap())
            .collect();
        assert_eq!(columns, ["To do", "In progress", "Done"]);
        Self {
            stack,
            alice,
            bob,
            carol,
            space,
            room,
            board,
        }
    }

    fn board_path(&self) -> String {
        format!(
            "/api/v1/communities/{}/tasks/boards/{}",
            self.space, self.board
        )
    }

    fn card_path(&self, card: &str) -> String {
        format!("/api/v1/communities/{}/tasks/cards/{card}", self.space)
    }

    /// Adds a card as `user`; returns the answer's status and body.
    async fn add(&self, user: &TestUser, card: Value) -> (u16, Value) {
        api(
            &self.stack,
            user,
            "POST",
            &format!("{}/cards", self.board_path()),
            Some(card),
        )
        .await
    }

    /// The IDs of a column's cards, in the order the board shows them.
    fn column_ids(board: &Value, column: &str) -> Vec<String> {
        board["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == column)
            .unwrap()["cards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|card| card["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The card `id` as the board shows it, once `check` accepts it.
    async fn wait_card(&self, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        let find = |board: &Value| -> Option<Value> {
            board["columns"]
                .as_array()?
                .iter()
                .flat_map(|column| column["cards"].as_array().into_iter().flatten())
                .find(|card| card["id"] == id)
                .cloned()
        };
        let board = wait_api(&self.stack, &self.alice, &self.board_path(), |board| {
            find(board).is_some_and(|card| check(&card))
        })
        .await;
        find(&board).unwrap()
    }

    /// Alice adds three cards to "To do": the board shows them in the order added.
    async fn a_board_and_its_cards_in_order(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for title in [
            "Commander les cartons",
            "Réserver le camion",
            "Prévenir la poste",
        ] {
            let (status, written) = self.add(&self.alice, json!({"title": title})).await;
            assert_eq!(status, 201, "{written}");
            assert_eq!(written["warnings"], json!([]));
            ids.push(written["id"].as_str().unwrap().to_owned());
        }
        let board = wait_api(&self.stack, &self.bob, &self.board_path(), |board| {
            board["columns"][0]["cards"]
                .as_array()
                .is_some_and(|cards| cards.len() == 3)
        })
        .await;
        assert_eq!(Self::column_ids(&board, "todo"), ids);
        assert_eq!(
            board["columns"][0]["cards"][0]["title"],
            "Commander les cartons"
        );
        assert_eq!(
            board["columns"][0]["cards"][0]["updated_by"],
            self.alice.user_id()
        );
        ids
    }

    /// Unknown board or column, due before start, a circle of dependencies: 400, each with its
    /// errcode and the problem in words.
    async fn each_problem_is_refused_with_its_errcode(&self, cards: &[String]) {
        let (status, refused) = self
            .add(&self.alice, json!({"title": "Ailleurs", "column": "later"}))
            .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (400, Some("ORG.PARVIS_UNKNOWN_COLUMN"))
        );
        assert!(
            refused["error"]
                .as_str()
                .unwrap()
                .contains("“To do” (todo)")
        );
        let (status, refused) = self
            .add(
                &self.alice,
                json!({"title": "Tard", "start": "2027-01-10", "due": "2027-01-05"}),
            )
            .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (400, Some("ORG.PARVIS_DUE_BEFORE_START"))
        );
        let (status, refused) = api(
            &self.stack,
            &self.alice,
            "POST",
            &format!("/api/v1/communities/{}/tasks/boards/nope/cards", self.space),
            Some(json!({"title": "Perdu", "column": "todo"})),
        )
        .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (400, Some("ORG.PARVIS_UNKNOWN_BOARD"))
        );
        // Card 1 depends on card 0; card 0 depending on card 1 would close a circle.
        let (status, written) = api(
            &self.stack,
            &self.alice,
            "PUT",
            &self.card_path(&cards[1]),
            Some(json!({"title": "Réserver le camion", "depends_on": [cards[0]]})),
        )
        .await;
        assert_eq!(status, 200, "{written}");
        self.wait_card(&cards[1], |card| card["depends_on"] == json!([cards[0]]))
            .await;
        let (status, refused) = api(
            &self.stack,
            &self.alice,
            "PUT",
            &self.card_path(&cards[0]),
            Some(json!({"title": "Commander les cartons", "depends_on": [cards[1]]})),
        )
        .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (400, Some("ORG.PARVIS_DEPENDENCY_CYCLE"))
        );
        let text = refused["error"].as_str().unwrap();
        assert!(
            text.contains(&cards[0]) && text.contains(&cards[1]),
            "{text}"
        );
        // The dependency goes again, so the next steps move cards freely.
        let (status, _) = api(
            &self.stack,
            &self.alice,
            "PUT",
            &self.card_path(&cards[1]),
            Some(json!({"title": "Réserver le camion"})),
        )
        .await;
        assert_eq!(status, 200);
    }

    /// Carol reads the board but cannot add, move or edit a card: Parvis refuses with 403, and
    /// the homeserver refuses her own client too. Nothing is written.
    async fn a_reader_is_refused_by_parvis_and_by_the_homeserver(&self, cards: &[String]) {
        let before = settled_digest(&self.stack).await;
        let (status, board) = api(&self.stack, &self.carol, "GET", &self.board_path(), None).await;
        assert_eq!(status, 200, "a reader reads: {board}");
        assert_eq!(board["may_write"], false, "her page offers no change");
        let (_, bobs) = api(&self.stack, &self.bob, "GET", &self.board_path(), None).await;
        assert_eq!(bobs["may_write"], true);
        assert_eq!(bobs["columns"], board["columns"], "the same board for both");
        let (status, refused) = self.add(&self.carol, json!({"title": "Intrus"})).await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (403, Some("M_FORBIDDEN"))
        );
        let (status, refused) = api(
            &self.stack,
            &self.carol,
            "POST",
            &format!("{}/move", self.card_path(&cards[0])),
            Some(json!({"column": "done"})),
        )
        .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (403, Some("M_FORBIDDEN"))
        );
        let (status, refused) = api(
            &self.stack,
            &self.carol,
            "PUT",
            &self.card_path(&cards[0]),
            Some(json!({"title": "Renommée"})),
        )
        .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (403, Some("M_FORBIDDEN"))
        );
        let direct = self
            .carol
            .send_state(
                &self.room,
                CARD,
                &cards[0],
                json!({"title": "Renommée", "board": self.board, "column": "done", "position": "a0"}),
            )
            .await;
        assert!(
            matches!(
                direct,
                Err(parvis_tests::HarnessError::Api { status: 403, .. })
            ),
            "{direct:?}"
        );
        assert_eq!(settled_digest(&self.stack).await, before, "nothing written");
    }

    /// Bob's avatar, set in his profile, reaches Carol through Parvis as a thumbnail (a widget
    /// cannot send a token with an `<img>`); Alice has none; someone outside the community is
    /// refused.
    async fn avatars_come_through_parvis_to_members_only(&self) {
        let png =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/avatar.png")).unwrap();
        let mxc = self.bob.upload(png, "image/png").await.unwrap();
        self.bob.set_avatar(&mxc).await.unwrap();
        let avatar = |user: &TestUser, of: &str| {
            let url = format!(
                "{}/api/v1/communities/{}/avatars/{}",
                self.stack.parvis.url(),
                parvis_tests::path_segment(&self.space),
                parvis_tests::path_segment(of)
            );
            let token = user.access_token().to_owned();
            async move {
                let response = http_client()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let kind = response
                    .headers()
                    .get("content-type")
                    .map(|kind| kind.to_str().unwrap().to_owned());
                (status, kind, response.bytes().await.unwrap())
            }
        };
        // The homeserver copies the avatar into Bob's member event in the space; Parvis
        // indexes it when it is delivered.
        let (kind, image) =
            parvis_tests::wait_for("Bob's avatar through Parvis", TIMEOUT, || async {
                let (status, kind, image) = avatar(&self.carol, self.bob.user_id()).await;
                (status == 200).then_some((kind, image))
            })
            .await
            .unwrap();
        assert!(
            matches!(
                kind.as_deref(),
                Some("image/png" | "image/jpeg" | "image/webp")
            ),
            "{kind:?}"
        );
        assert!(image.len() > 100, "an image, not an error");
        let (status, _, body) = avatar(&self.carol, self.alice.user_id()).await;
        assert_eq!(status, 404, "Alice has no avatar: {body:?}");
        let dave = self.stack.register_user("dave").await.unwrap();
        let (status, _, _) = avatar(&dave, self.bob.user_id()).await;
        assert_eq!(status, 403, "not a member of the community");
    }

    /// `/metrics` times the board reads under their route's template (not one series per
    /// board), and the index's lag behind the room.
    async fn metrics_show_each_routes_latency_and_the_index_lag(&self) {
        let text = http_client()
            .get(format!("{}/metrics", self.stack.parvis.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let count = |prefix: &str| -> u64 {
            text.lines()
                .find_map(|line| line.strip_prefix(prefix)?.trim().parse().ok())
                .unwrap_or(0)
        };
        let board_reads = count(
            "parvis_http_request_seconds_count{method=\"GET\",route=\"/api/v1/communities/{space}/tasks/boards/{board}\",status=\"2xx\"}",
        );
        assert!(board_reads >= 2, "{text}");
        assert!(!text.contains(&self.board), "no series names a board");
        assert!(count("parvis_index_lag_seconds_count") > 0, "{text}");
        assert!(count("parvis_transaction_seconds_count") > 0);
        assert!(
            text.lines()
                .any(|line| line.starts_with("parvis_jobs_queued ")),
            "{text}"
        );
    }

    /// The card's current state event in the room, as the homeserver gives it.
    async fn current_card_event(&self, card: &str) -> Value {
        self.alice
            .room_state(&self.room)
            .await
            .unwrap()
            .into_iter()
            .find(|event| event["type"] == CARD && event["state_key"] == card)
            .unwrap()
    }

    /// Alice and Bob move the same card at once, each through their own client (not Parvis),
    /// several times: the index shows the event the room's state holds, never simply the last
    /// one delivered.
    async fn concurrent_moves_of_one_card_end_in_the_rooms_state(&self, card: &str) {
        let current = self.current_card_event(card).await;
        for round in 0..5 {
            let mut to_doing = current["content"].clone();
            to_doing["column"] = json!("doing");
            to_doing["position"] = json!(format!("a{round}"));
            let mut to_done = current["content"].clone();
            to_done["column"] = json!("done");
            to_done["position"] = json!(format!("a{round}"));
            let (a, b) = tokio::join!(
                self.alice.send_state(&self.room, CARD, card, to_doing),
                self.bob.send_state(&self.room, CARD, card, to_done),
            );
            a.unwrap();
            b.unwrap();
        }
        let winner = self.current_card_event(card).await;
        let event_id = winner["event_id"].as_str().unwrap().to_owned();
        let shown = self
            .wait_card(card, |shown| shown["event_id"] == event_id)
            .await;
        assert_eq!(shown["column"], winner["content"]["column"]);
        // Settled (a fork's reconcile done), it still shows the room's state.
        settled_digest(&self.stack).await;
        let board = wait_api(&self.stack, &self.bob, &self.board_path(), |_| true).await;
        let held: Vec<&Value> = board["columns"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|column| column["cards"].as_array().unwrap())
            .filter(|shown| shown["id"] == card)
            .collect();
        assert_eq!(held.len(), 1);
        assert_eq!(
            held[0]["event_id"],
            self.current_card_event(card).await["event_id"]
        );
    }

    /// Alice and Bob move two other cards of one column at once through Parvis: both land,
    /// and the board's order is the room state's order (position, then ID).
    async fn concurrent_moves_of_different_cards_both_land(&self, cards: &[String]) {
        let (first, second) = (
            format!("{}/move", self.card_path(&cards[1])),
            format!("{}/move", self.card_path(&cards[2])),
        );
        // Both go to the top of "In progress" at once: one position, told apart by their IDs.
        let (a, b) = tokio::join!(
            api(
                &self.stack,
                &self.alice,
                "POST",
                &first,
                Some(json!({"column": "doing"}))
            ),
            api(
                &self.stack,
                &self.bob,
                "POST",
                &second,
                Some(json!({"column": "doing"}))
            ),
        );
        assert_eq!(a.0, 200, "{}", a.1);
        assert_eq!(b.0, 200, "{}", b.1);
        let board = wait_api(&self.stack, &self.bob, &self.board_path(), |board| {
            let doing = Self::column_ids(board, "doing");
            doing.contains(&cards[1]) && doing.contains(&cards[2])
        })
        .await;
        let mut in_room: Vec<(String, String)> = self
            .alice
            .room_state(&self.room)
            .await
            .unwrap()
            .into_iter()
            .filter(|event| event["type"] == CARD && event["content"]["column"] == "doing")
            .map(|event| {
                (
                    event["content"]["position"].as_str().unwrap().to_owned(),
                    event["state_key"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        in_room.sort();
        let expected: Vec<String> = in_room.into_iter().map(|(_, id)| id).collect();
        assert_eq!(Self::column_ids(&board, "doing"), expected);
        // Alice reads the same order as Bob.
        let (_, seen_by_alice) =
            api(&self.stack, &self.alice, "GET", &self.board_path(), None).await;
        assert_eq!(Self::column_ids(&seen_by_alice, "doing"), expected);
    }

    /// Twelve dated cards with dependencies on a second board: the critical path is the one
    /// worked out by hand, slack too; a dependency closing a circle is refused, the cards named.
    async fn the_gantt_view_finds_the_critical_path_and_refuses_a_circle(&mut self) {
        let boards = format!("/api/v1/communities/{}/tasks/boards", self.space);
        let (status, written) = api(
            &self.stack,
            &self.alice,
            "POST",
            &boards,
            Some(json!({"name": "Chantier", "columns": [{"name": "À faire"}, {"name": "Fait", "done": true}]})),
        )
        .await;
        assert_eq!(status, 201, "{written}");
        let main_board =
            std::mem::replace(&mut self.board, written["id"].as_str().unwrap().to_owned());
        wait_api(&self.stack, &self.alice, &self.board_path(), |_| true).await;
        // January 2027, (name, start, due, dependencies). By hand: A 4–5 → B 6–8 → D 9–12 →
        // F 13–15 → I 16 is the longest chain (the plan ends on the 16th), every other card
        // may slip 3 days: C and E before F, and G → H → J → K → L, which ends on the 13th.
        let plan: [(&str, u32, u32, &[&str]); 12] = [
            ("A", 4, 5, &[]),
            ("B", 6, 8, &["A"]),
            ("C", 6, 6, &["A"]),
            ("D", 9, 12, &["B"]),
            ("E", 7, 9, &["C"]),
            ("F", 13, 15, &["D", "E"]),
            ("G", 4, 4, &[]),
            ("H", 5, 7, &["G"]),
            ("I", 16, 16, &["F"]),
            ("J", 8, 10, &["H"]),
            ("K", 11, 12, &["J"]),
            ("L", 13, 13, &["K"]),
        ];
        let mut ids: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        for (name, start, due, depends) in plan {
            let depends_on: Vec<&String> = depends.iter().map(|d| &ids[d]).collect();
            let (status, written) = self
                .add(
                    &self.alice,
                    json!({
                        "title": format!("Lot {name}"),
                        "start": format!("2027-01-{start:02}"),
                        "due": format!("2027-01-{due:02}"),
                        "depends_on": depends_on,
                    }),
                )
                .await;
            assert_eq!(status, 201, "{name}: {written}");
            ids.insert(name, written["id"].as_str().unwrap().to_owned());
        }
        let undated = self.add(&self.alice, json!({"title": "Sans date"})).await;
        assert_eq!(undated.0, 201);
        let gantt_path = format!(
            "/api/v1/communities/{}/tasks/gantt?board={}",
            self.space, self.board
        );
        let gantt = wait_api(&self.stack, &self.bob, &gantt_path, |gantt| {
            gantt["cards"]
                .as_array()
                .is_some_and(|cards| cards.len() == 12)
                && gantt["undated"]
                    .as_array()
                    .is_some_and(|cards| cards.len() == 1)
        })
        .await;
        let critical: Vec<&str> = ["A", "B", "D", "F", "I"]
            .iter()
            .map(|n| ids[n].as_str())
            .collect();
        assert_eq!(gantt["critical_path"], json!(critical));
        assert_eq!(gantt["end"], "2027-01-16");
        let slack = |name: &str| {
            gantt["cards"]
                .as_array()
                .unwrap()
                .iter()
                .find(|card| card["id"] == ids[name].as_str())
                .unwrap()["slack"]
                .as_i64()
                .unwrap()
        };
        for name in ["A", "B", "D", "F", "I"] {
            assert_eq!(slack(name), 0, "{name}");
        }
        for name in ["C", "E", "G", "H", "J", "K", "L"] {
            assert_eq!(slack(name), 3, "{name}");
        }
        assert_eq!(gantt["undated"][0]["title"], "Sans date");
        // A depending on I closes A → B → D → F → I → A.
        let (status, refused) = api(
            &self.stack,
            &self.alice,
            "PUT",
            &self.card_path(&ids["A"]),
            Some(json!({"title": "Lot A", "start": "2027-01-04", "due": "2027-01-05", "depends_on": [ids["I"]]})),
        )
        .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (400, Some("ORG.PARVIS_DEPENDENCY_CYCLE"))
        );
        let text = refused["error"].as_str().unwrap();
        for name in ["A", "B", "D", "F", "I"] {
            assert!(text.contains(&ids[name]), "{name} named in: {text}");
        }
        assert!(!text.contains(&ids["C"]), "{text}");
        self.board = main_board;
    }

    /// Bob is assigned a card: it is on his "my tasks", with its community and board; the board
    /// exports as CSV with its columns' names.
    async fn the_board_exports_as_csv_and_assignment_reaches_my_tasks(&self, card: &str) {
        let (status, written) = api(
            &self.stack,
            &self.alice,
            "PUT",
            &self.card_path(card),
            Some(json!({"title": "Réserver le camion", "assignees": [self.bob.user_id()], "labels": ["logistique"], "due": "2027-01-15"})),
        )
        .await;
        assert_eq!(status, 200, "{written}");
        let mine = wait_api(&self.stack, &self.bob, "/api/v1/tasks/mine", |mine| {
            mine.as_array()
                .is_some_and(|mine| mine.iter().any(|task| task["id"] == card))
        })
        .await;
        let task = mine
            .as_array()
            .unwrap()
            .iter()
            .find(|task| task["id"] == card)
            .unwrap();
        assert_eq!(task["community"], "Projet Alpha");
        assert_eq!(task["board_name"], "Déménagement");
        assert_eq!(task["space"], self.space.as_str());
        let (_, alice_mine) =
            api(&self.stack, &self.alice, "GET", "/api/v1/tasks/mine", None).await;
        assert_eq!(alice_mine, json!([]), "nothing is assigned to Alice");

        let response = http_client()
            .get(format!(
                "{}{}/export.csv",
                self.stack.parvis.url(),
                self.board_path()
            ))
            .bearer_auth(self.bob.access_token())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = response.text().await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("title,column,assignees,labels,start,due,done,id")
        );
        let line = csv.lines().find(|line| line.ends_with(card)).unwrap();
        assert!(
            line.starts_with(&format!(
                "Réserver le camion,In progress,'{},logistique,,2027-01-15,no,",
                self.bob.user_id()
            )),
            "{line}"
        );
    }

    /// Sends `text` as `user` in `room`; returns the bot's answer to it.
    async fn reply_to(&self, user: &TestUser, room: &str, text: &str) -> Value {
        let bot = self.stack.bot_user_id();
        let command = user.send_text(room, text).await.unwrap();
        user.wait_for_event(room, TIMEOUT, |event| {
            event["sender"] == bot.as_str()
                && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == command.as_str()
        })
        .await
        .unwrap()
    }

    /// The bot's notice in the tasks room whose body contains `words`.
    async fn notice_saying(&self, words: &str) -> Value {
        let bot = self.stack.bot_user_id();
        self.alice
            .wait_for_event(&self.room, TIMEOUT, |event| {
                event["sender"] == bot.as_str()
                    && event["content"]["msgtype"] == "m.notice"
                    && event["content"]["body"]
                        .as_str()
                        .is_some_and(|body| body.contains(words))
            })
            .await
            .unwrap()
    }

    /// For Element X and Tchap X: commands add, move and list cards and are answered, a reader's
    /// refused; the tasks room is told of a card added from another room and of an assignment
    /// made in the web app, naming (`m.mentions`) the person assigned.
    async fn without_widgets_commands_and_notices_tell_the_room(&self, card: &str) {
        let carol = self.carol.user_id();
        let added = self
            .reply_to(
                &self.bob,
                &self.space,
                &format!(r#"!parvis task add "Louer des diables" --board Déménagement --column "In progress" --due 2027-01-20 --assign {carol}"#),
            )
            .await;
        let body = added["content"]["body"].as_str().unwrap();
        assert!(body.starts_with("✅ Card “Louer des diables”"), "{body}");
        assert_eq!(added["content"]["m.mentions"]["user_ids"], json!([carol]));
        let told = self.notice_saying("Louer des diables").await;
        assert_eq!(
            told["content"]["body"],
            format!(
                "🗂️ {} added “Louer des diables” to In progress on “Déménagement” · assigned to {carol} · due 2027-01-20",
                self.bob.user_id()
            )
        );
        assert_eq!(told["content"]["m.mentions"]["user_ids"], json!([carol]));
        let board = wait_api(&self.stack, &self.alice, &self.board_path(), |board| {
            board.to_string().contains("Louer des diables")
        })
        .await;
        let new_card = board["columns"][1]["cards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"] == "Louer des diables")
            .unwrap()
            .clone();
        assert_eq!(new_card["assignees"], json!([carol]));
        assert_eq!(new_card["requested_by"], self.bob.user_id());
        let short = &new_card["id"].as_str().unwrap()[..6];

        let moved = self
            .reply_to(
                &self.bob,
                &self.room,
                &format!("!parvis task move #{short} Done"),
            )
            .await;
        assert_eq!(
            moved["content"]["body"],
            format!("✅ Card “Louer des diables” (#{short}) is in “Done”.")
        );
        self.wait_card(new_card["id"].as_str().unwrap(), |c| c["column"] == "done")
            .await;

        let (status, _) = api(
            &self.stack,
            &self.alice,
            "PUT",
            &self.card_path(card),
            Some(json!({"title": "Prévenir la poste", "assignees": [carol]})),
        )
        .await;
        assert_eq!(status, 200);
        let told = self.notice_saying("assigned “Prévenir la poste”").await;
        assert_eq!(
            told["content"]["body"],
            format!(
                "👤 {} assigned “Prévenir la poste” to {carol}",
                self.alice.user_id()
            )
        );
        assert_eq!(told["content"]["m.mentions"]["user_ids"], json!([carol]));

        let mine = self
            .reply_to(&self.carol, &self.space, "!parvis tasks --mine")
            .await;
        let body = mine["content"]["body"].as_str().unwrap();
        assert!(body.starts_with("🗂️ 1 card(s) assigned to you:"), "{body}");
        assert!(body.contains("“Prévenir la poste”"), "{body}");
        assert!(
            !body.contains("Louer des diables"),
            "done cards are not listed: {body}"
        );

        let refused = self
            .reply_to(&self.carol, &self.space, r#"!parvis task add "Intrus""#)
            .await;
        let body = refused["content"]["body"].as_str().unwrap();
        assert!(
            body.starts_with("❌") && body.contains("readers only read"),
            "{body}"
        );
    }

    /// Comments on a card are Matrix threads: one posted through Parvis hangs off the card's
    /// current event; another, sent by Bob's own client in the thread of an older event of the
    /// card (the one his client showed), is the card's too; both are listed, oldest first, and a
    /// rebuilt index (the last step) lists them again.
    async fn comments_on_a_card_are_threads_on_any_of_its_events(&self, card: &str) {
        let path = format!("{}/comments", self.card_path(card));
        let older = self.current_card_event(card).await["event_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, posted) = api(
            &self.stack,
            &self.alice,
            "POST",
            &path,
            Some(json!({"body": "Le bureau de poste ferme à 17 h."})),
        )
        .await;
        assert_eq!(status, 201, "{posted}");
        let sent = self
            .alice
            .messages(&self.room, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|event| event["event_id"] == posted["event_id"])
            .unwrap();
        assert_eq!(sent["sender"], self.alice.user_id());
        assert_eq!(sent["content"]["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(sent["content"]["m.relates_to"]["event_id"], older.as_str());
        // The card moves on: a new event; Bob answers in the thread of the older one.
        let (status, _) = api(
            &self.stack,
            &self.alice,
            "POST",
            &format!("{}/move", self.card_path(card)),
            Some(json!({"column": "todo"})),
        )
        .await;
        assert_eq!(status, 200);
        self.wait_card(card, |shown| shown["event_id"] != older.as_str())
            .await;
        self.bob
            .send_event(
                &self.room,
                "m.room.message",
                json!({"msgtype": "m.text", "body": "J'y passe demain matin.",
                       "m.relates_to": {"rel_type": "m.thread", "event_id": older, "is_falling_back": true,
                                        "m.in_reply_to": {"event_id": older}}}),
            )
            .await
            .unwrap();
        let comments = wait_api(&self.stack, &self.carol, &path, |comments| {
            comments
                .as_array()
                .is_some_and(|comments| comments.len() == 2)
        })
        .await;
        let said: Vec<(&str, &str)> = comments
            .as_array()
            .unwrap()
            .iter()
            .map(|comment| {
                (
                    comment["sender"].as_str().unwrap(),
                    comment["body"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            said,
            [
                (self.alice.user_id(), "Le bureau de poste ferme à 17 h."),
                (self.bob.user_id(), "J'y passe demain matin.")
            ]
        );
        let (status, refused) = api(
            &self.stack,
            &self.carol,
            "POST",
            &path,
            Some(json!({"body": "Intrus"})),
        )
        .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (403, Some("M_FORBIDDEN"))
        );
        let (status, refused) = api(
            &self.stack,
            &self.alice,
            "POST",
            &path,
            Some(json!({"body": "  "})),
        )
        .await;
        assert_eq!(
            (status, refused["errcode"].as_str()),
            (400, Some("M_INVALID_PARAM"))
        );
    }

    async fn rebuild_gives_the_same_index(&mut self) {
        let live = settled_digest(&self.stack).await;
        self.stack.parvis.stop().await;
        let fresh = self.stack.scratch_sqlite_url("rebuilt");
        self.stack.parvis.rebuild_index(Some(&fresh)).await.unwrap();
        assert_eq!(self.stack.parvis.digest(Some(&fresh)).await.unwrap(), live);
    }
}

/// `count` latencies' median and 99th percentile, in milliseconds.
fn percentiles(mut latencies: Vec<std::time::Duration>) -> (f64, f64) {
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.99))
}

/// Runs `requests` calls of `call` with `concurrency` at once; returns each one's latency.
async fn load<F, Fut>(requests: usize, concurrency: usize, call: F) -> Vec<std::time::Duration>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut workers = tokio::task::JoinSet::new();
    let per_worker = requests / concurrency;
    for _ in 0..concurrency {
        let call = call.clone();
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(per_worker);
            for _ in 0..per_worker {
                let started = std::time::Instant::now();
                call().await;
                latencies.push(started.elapsed());
            }
            latencies
        });
    }
    let mut all = Vec::with_capacity(requests);
    while let Some(latencies) = workers.join_next().await {
        all.extend(latencies.unwrap());
    }
    all
}

/// Figures for BENCHMARKS.md, not a pass/fail test (timings flake in tests): a board of
/// `PARVIS_BENCH_CARDS` (default 5,000) cards written into the tasks room through Synapse,
/// then, in the same run and at the same concurrency, the board read from Parvis's API and the
/// same board assembled as a client without Parvis would (`GET /rooms/{id}/state` from Synapse,
/// its cards of the board kept and sorted); then moves through Parvis beside the same state
/// writes sent straight to Synapse. Run it against a release build:
///
/// `cargo build --release -p parvis && PARVIS_BIN=$CARGO_TARGET_DIR/release/parvis cargo test -p parvis-tests --test tasks -- --ignored board_of_5000_cards --nocapture`
#[tokio::test]
#[ignore = "a benchmark: run it by name"]
async fn board_of_5000_cards() {
    const CONCURRENCY: usize = 8;
    let count: usize = std::env::var("PARVIS_BENCH_CARDS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(5_000);
    let stack = Stack::start(Database::Sqlite).await.unwrap();
    let alice = stack.register_user("alice").await.unwrap();
    let created = create_community(&stack, &alice, &["tasks"]).await;
    let space = created["space_id"].as_str().unwrap().to_owned();
    let room = room_of(&created, "tasks");
    alice.join(&space).await.unwrap();
    alice.join(&room).await.unwrap();
    let boards = format!("/api/v1/communities/{space}/tasks/boards");
    wait_api(&stack, &alice, &boards, |_| true).await;
    let (status, written) = api(
        &stack,
        &alice,
        "POST",
        &boards,
        Some(json!({"name": "Grand chantier"})),
    )
    .await;
    assert_eq!(status, 201);
    let board = written["id"].as_str().unwrap().to_owned();
    let board_path = format!("{boards}/{board}");
    wait_api(&stack, &alice, &board_path, |_| true).await;

    // The cards, written straight into the room, 16 at a time, as the bot (the appservice's
    // token): a person's cards would each call for a notice in the room, and 5,000 notices
    // posted while the cards are written would slow the writes and change the room under the
    // reads measured. Fixed-width positions that sort in the order written.
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let started = std::time::Instant::now();
    let hs = stack.synapse.base_url();
    let token = alice.access_token().to_owned();
    let bot_token = stack.parvis.tokens().as_token.clone();
    let columns = ["todo", "doing", "done"];
    let mut writers = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let (hs, token, room, board) = (hs.clone(), bot_token.clone(), room.clone(), board.clone());
        writers.spawn(async move {
            let client = http_client();
            for i in (worker..count).step_by(16) {
                let position = format!(
                    "a1{}{}{}V",
                    DIGITS[i / (62 * 62) % 62] as char,
                    DIGITS[i / 62 % 62] as char,
                    DIGITS[i % 62] as char
                );
                let card = json!({
                    "title": format!("Lot de travaux n° {i}"),
                    "description": "Vérifier les métrés avec le bureau d'études, puis commander.",
                    "board": board, "column": columns[i % 3], "position": position,
                    "assignees": [format!("@agent{}:example.org", i % 40)],
                    "labels": ["chantier", if i % 2 == 0 { "gros œuvre" } else { "second œuvre" }],
                    "due": format!("2027-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                });
                let url = format!(
                    "{hs}/_matrix/client/v3/rooms/{}/state/org.parvis.kanban.card/card{i:05}",
                    parvis_tests::path_segment(&room)
                );
                loop {
                    let response = client
                        .put(&url)
                        .bearer_auth(&token)
                        .json(&card)
                        .send()
                        .await;
                    match response {
                        Ok(response) if response.status().is_success() => break,
                        // Synapse's rate limit, or a hiccup: again, a little later.
                        _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
                    }
                }
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    println!(
        "{count} cards written to Synapse in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let board_json = parvis_tests::wait_for(
        "every card indexed",
        std::time::Duration::from_secs(900),
        || async {
            let (status, shown) = api(&stack, &alice, "GET", &board_path, None).await;
            let cards: usize = shown["columns"]
                .as_array()?
                .iter()
                .map(|column| column["cards"].as_array().map_or(0, Vec::len))
                .sum();
            (status == 200 && cards == count).then_some(shown)
        },
    )
    .await
    .unwrap();
    println!(
        "… and indexed by Parvis {:.1} s after the first write",
        started.elapsed().as_secs_f64()
    );
    let bytes = board_json.to_string().len();
    // The room quiet: no job (a notice…) still writing into it while the reads are measured.
    parvis_tests::wait_for(
        "the job queue empty",
        std::time::Duration::from_secs(900),
        || async { parvis_tests::api::jobs_done(&stack).await.then_some(()) },
    )
    .await
    .unwrap();

    let parvis_url = format!("{}{board_path}", stack.parvis.url());
    let state_url = format!(
        "{hs}/_matrix/client/v3/rooms/{}/state",
        parvis_tests::path_segment(&room)
    );
    let requests = 400;
    let parvis_reads = {
        let (client, url, token) = (http_client(), parvis_url.clone(), token.clone());
        load(requests, CONCURRENCY, move || {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            async move {
                let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
            }
        })
        .await
    };
    let synapse_reads = {
        let (client, url, token, board) = (
            http_client(),
            state_url.clone(),
            token.clone(),
            board.clone(),
        );
        load(requests, CONCURRENCY, move || {
            let (client, url, token, board) =
                (client.clone(), url.clone(), token.clone(), board.clone());
            async move {
                let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(response.status(), 200);
                let state: Vec<Value> = response.json().await.unwrap();
                let mut cards: Vec<&Value> = state
                    .iter()
                    .filter(|event| {
                        event["type"] == "org.parvis.kanban.card"
                            && event["content"]["board"] == board.as_str()
                    })
                    .collect();
                cards.sort_by(|a, b| {
                    (a["content"]["position"].as_str(), a["state_key"].as_str())
                        .cmp(&(b["content"]["position"].as_str(), b["state_key"].as_str()))
                });
                assert_eq!(cards.len(), count);
            }
        })
        .await
    };
    let (parvis_p50, parvis_p99) = percentiles(parvis_reads);
    let (synapse_p50, synapse_p99) = percentiles(synapse_reads);
    println!(
        "board of {count} cards ({bytes} bytes of JSON), {requests} reads at concurrency {CONCURRENCY}:\n  \
         Parvis API: p50 {parvis_p50:.2} ms, p99 {parvis_p99:.2} ms\n  \
         Synapse /state + filter: p50 {synapse_p50:.2} ms, p99 {synapse_p99:.2} ms\n  \
         ratio (Synapse / Parvis): p50 {:.1}×, p99 {:.1}×",
        synapse_p50 / parvis_p50,
        synapse_p99 / parvis_p99
    );

    // Moves, one at a time (as a person does): through Parvis, then the same writes sent
    // straight to Synapse. Parvis's own time is the difference.
    let moves = 200;
    let mut through_parvis = Vec::with_capacity(moves);
    // After each move, the board read once: the room changed, so its answer is computed again
    // (what the mover's own page reads next).
    let mut reads_after_a_change = Vec::with_capacity(moves);
    let mut timings: std::collections::BTreeMap<String, Vec<std::time::Duration>> =
        Default::default();
    let client = http_client();
    for i in 0..moves {
        let card = format!("card{:05}", i * 7 % count);
        let url = format!(
            "{}/api/v1/communities/{space}/tasks/cards/{card}/move",
            stack.parvis.url()
        );
        let started = std::time::Instant::now();
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({"column": columns[(i + 1) % 3]}))
            .send()
            .await
            .unwrap();
        let timing = response
            .headers()
            .get("server-timing")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        response.bytes().await.unwrap();
        through_parvis.push(started.elapsed());
        let reading = std::time::Instant::now();
        let response = client
            .get(&parvis_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        reads_after_a_change.push(reading.elapsed());
        // `parvis;dur=…, homeserver;dur=…, readback;dur=…`, in milliseconds.
        for part in timing.split(", ") {
            if let Some((name, duration)) = part.split_once(";dur=") {
                let duration =
                    std::time::Duration::from_secs_f64(duration.parse::<f64>().unwrap() / 1000.0);
                timings.entry(name.to_owned()).or_default().push(duration);
            }
        }
    }
    let mut straight = Vec::with_capacity(moves);
    for i in 0..moves {
        let card = format!("card{:05}", i * 11 % count);
        let content = json!({"title": format!("Lot {i}"), "board": board, "column": columns[i % 3], "position": format!("a2{i:03}V")});
        let url = format!(
            "{hs}/_matrix/client/v3/rooms/{}/state/org.parvis.kanban.card/{card}",
            parvis_tests::path_segment(&room)
        );
        let started = std::time::Instant::now();
        let response = client
            .put(&url)
            .bearer_auth(&token)
            .json(&content)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
        straight.push(started.elapsed());
    }
    let (move_p50, move_p99) = percentiles(through_parvis);
    let (put_p50, put_p99) = percentiles(straight);
    println!(
        "{moves} moves one at a time:\n  through Parvis (checks, position, send as the user, read back): p50 {move_p50:.2} ms, p99 {move_p99:.2} ms\n  \
         the same state write straight to Synapse: p50 {put_p50:.2} ms, p99 {put_p99:.2} ms\n  \
         Parvis's own time, difference of the medians: {:.2} ms",
        move_p50 - put_p50
    );
    let (fresh_p50, fresh_p99) = percentiles(reads_after_a_change);
    println!(
        "  the board read right after each move (its answer computed again): p50 {fresh_p50:.2} ms, p99 {fresh_p99:.2} ms"
    );
    for (name, durations) in timings {
        let (p50, p99) = percentiles(durations);
        println!("  Server-Timing {name}: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }
    stack.stop().await;
}
