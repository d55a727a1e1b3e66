//! The SQL body both backends share, compiled once for each: `backend::sqlite` and
//! `backend::postgres` include this file as their `sql` module, each with its own `Db`,
//! `Store`, search statements and `FOLDS_SEARCH`.

use super::*;

impl Store {
    /// Gives `rooms` a new change stamp, one random value for the whole write: every answer
    /// kept from what they held before is stale (see [`IndexStore::room_stamp`]).
    async fn stamp_rooms<'a>(
        tx: &mut sqlx::Transaction<'_, Db>,
        rooms: impl Iterator<Item = &'a OwnedRoomId>,
    ) -> Result<()> {
        let rooms: Vec<&'a OwnedRoomId> = rooms.collect();
        if rooms.is_empty() {
            return Ok(());
        }
        let stamp = new_stamp();
        for chunk in rooms.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Db>::new("UPDATE rooms SET stamp = ");
            query.push_bind(stamp).push(" WHERE room_id IN (");
            let mut list = query.separated(", ");
            chunk.iter().for_each(|room| {
                list.push_bind(room.as_str());
            });
            query.push(")");
            query.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn load_context(
        tx: &mut sqlx::Transaction<'_, Db>,
        events: &[RoomEvent],
    ) -> Result<ProjectionContext> {
        let mut context = ProjectionContext::default();
        let rooms = distinct(events.iter().map(|event| &event.room_id));
        let mut query = QueryBuilder::<Db>::new(
            "SELECT room_id, creator, room_version FROM rooms WHERE room_id IN (",
        );
        let mut list = query.separated(", ");
        rooms.iter().for_each(|room| {
            list.push_bind(*room);
        });
        query.push(")");
        for row in query.build().fetch_all(&mut **tx).await? {
            let room_id: String = row.try_get(0)?;
            let creator: Option<String> = row.try_get(1)?;
            let version: Option<String> = row.try_get(2)?;
            context.tracked.insert(
                OwnedRoomId::try_from(room_id).map_err(corrupt)?,
                TrackedRoom {
                    creator: creator.and_then(|c| OwnedUserId::try_from(c).ok()),
                    room_version: version.and_then(|v| RoomVersionId::try_from(v).ok()),
                },
            );
        }

        let mut query =
            QueryBuilder::<Db>::new("SELECT room_id, COUNT(*) FROM jobs WHERE not_before < ");
        query.push_bind(i64::MAX).push(" AND room_id IN (");
        let mut list = query.separated(", ");
        rooms.iter().for_each(|room| {
            list.push_bind(*room);
        });
        query.push(") GROUP BY room_id");
        for row in query.build().fetch_all(&mut **tx).await? {
            let room_id: String = row.try_get(0)?;
            let waiting: i64 = row.try_get(1)?;
            context.waiting_jobs.insert(
                OwnedRoomId::try_from(room_id).map_err(corrupt)?,
                u64::try_from(waiting).unwrap_or_default(),
            );
        }

        let state_events: Vec<&str> = events
            .iter()
            .filter(|event| event.state_key.is_some())
            .map(|event| event.event_id.as_str())
            .collect();
        if !state_events.is_empty() {
            let mut query = QueryBuilder::<Db>::new(
                "SELECT event_id FROM superseded_events WHERE event_id IN (",
            );
            let mut list = query.separated(", ");
            state_events.iter().for_each(|id| {
                list.push_bind(*id);
            });
            query.push(")");
            for row in query.build().fetch_all(&mut **tx).await? {
                let id: String = row.try_get(0)?;
                context
                    .superseded
                    .insert(OwnedEventId::try_from(id).map_err(corrupt)?);
            }
        }

        let mut keys: Vec<(&str, &str, &str)> = events
            .iter()
            .filter_map(|event| {
                let key = event.state_key.as_deref()?;
                Some((event.room_id.as_str(), event.event_type.as_str(), key))
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Db>::new(
                "SELECT room_id, event_type, state_key, event_id, content FROM room_state \
                 WHERE (room_id, event_type, state_key) IN (",
            );
            query.push_values(chunk, |mut row, (room, event_type, key)| {
                row.push_bind(*room).push_bind(*event_type).push_bind(*key);
            });
            query.push(")");
            for row in query.build().fetch_all(&mut **tx).await? {
                let room = OwnedRoomId::try_from(row.try_get::<String, _>(0)?).map_err(corrupt)?;
                let event_id =
                    OwnedEventId::try_from(row.try_get::<String, _>(3)?).map_err(corrupt)?;
                let content = parse_content(&row.try_get::<String, _>(4)?)?;
                context.current_state.insert(
                    (room, row.try_get(1)?, row.try_get(2)?),
                    HeldState { event_id, content },
                );
            }
        }

        let roots: Vec<OwnedEventId> = events
            .iter()
            .filter_map(CommentRow::from_event)
            .map(|comment| comment.thread_root)
            .collect();
        if !roots.is_empty() {
            let mut query = QueryBuilder::<Db>::new(
                "SELECT event_id FROM publication_revisions WHERE event_id IN (",
            );
            let mut list = query.separated(", ");
            roots.iter().for_each(|id| {
                list.push_bind(id.as_str());
            });
            query.push(")");
            for row in query.build().fetch_all(&mut **tx).await? {
                context
                    .revision_roots
                    .insert(OwnedEventId::try_from(row.try_get::<String, _>(0)?).map_err(corrupt)?);
            }
            // Events of tools' commented objects root comments too.
            for table in tools::comment_roots_tables() {
                let mut query = QueryBuilder::<Db>::new(format!(
                    "SELECT event_id FROM {table} WHERE event_id IN ("
                ));
                let mut list = query.separated(", ");
                roots.iter().for_each(|id| {
                    list.push_bind(id.as_str());
                });
                query.push(")");
                for row in query.build().fetch_all(&mut **tx).await? {
                    context.revision_roots.insert(
                        OwnedEventId::try_from(row.try_get::<String, _>(0)?).map_err(corrupt)?,
                    );
                }
            }
        }

        let targets: Vec<OwnedEventId> = events
            .iter()
            .filter_map(RoomEvent::redacted_event)
            .collect();
        if !targets.is_empty() {
            let mut query = QueryBuilder::<Db>::new(
                "SELECT room_id, event_type, state_key, event_id, sender, content FROM room_state WHERE event_id IN (",
            );
            let mut list = query.separated(", ");
            targets.iter().for_each(|id| {
                list.push_bind(id.as_str());
            });
            query.push(")");
            for row in query.build().fetch_all(&mut **tx).await? {
                let state = StateRow {
                    room_id: OwnedRoomId::try_from(row.try_get::<String, _>(0)?)
                        .map_err(corrupt)?,
                    event_type: row.try_get(1)?,
                    state_key: row.try_get(2)?,
                    event_id: OwnedEventId::try_from(row.try_get::<String, _>(3)?)
                        .map_err(corrupt)?,
                    sender: OwnedUserId::try_from(row.try_get::<String, _>(4)?).map_err(corrupt)?,
                    content: parse_content(&row.try_get::<String, _>(5)?)?,
                };
                context
                    .redaction_targets
                    .insert(state.event_id.clone(), state);
            }
        }
        Ok(context)
    }

    async fn apply(tx: &mut sqlx::Transaction<'_, Db>, changes: Vec<IndexChange>) -> Result<usize> {
        let mut jobs = 0;
        let mut pending = Pending::default();
        for change in changes {
            match pending.push(change) {
                Ok(queued) => jobs += queued,
                Err(other) => {
                    // Keep the order of changes: flush batched rows before anything else.
                    Self::flush(tx, std::mem::take(&mut pending)).await?;
                    jobs += Self::apply_one(tx, *other).await?;
                }
            }
        }
        Self::flush(tx, pending).await?;
        Ok(jobs)
    }

    async fn flush_one(tx: &mut sqlx::Transaction<'_, Db>, change: IndexChange) -> Result<usize> {
        let mut pending = Pending::default();
        let jobs = pending.push(change).unwrap_or(0);
        Self::flush(tx, pending).await?;
        Ok(jobs)
    }

    /// Writes batched changes, one multi-row statement per table and chunk: each
    /// statement is a round trip to the database, which dominates small writes.
    async fn flush(tx: &mut sqlx::Transaction<'_, Db>, pending: Pending) -> Result<()> {
        Self::flush_state(tx, pending.state).await?;
        Self::flush_superseded(tx, pending.superseded).await?;
        if !FOLDS_SEARCH && !pending.publications.is_empty() {
            // SQLite: the backlog entries whose words are indexed go, in the transaction
            // that holds the lock anyway (the worker beside it would wait for it).
            sqlx::query(
                "DELETE FROM search_backlog WHERE seq <= (SELECT seq FROM search.word_progress)",
            )
            .execute(&mut **tx)
            .await?;
        }
        Self::flush_publications(tx, pending.publications).await?;
        for chunk in pending.revisions.chunks(ROWS_PER_STATEMENT) {
            let contents: Vec<String> = chunk
                .iter()
                .map(|revision| serde_json::to_string(&revision.content))
                .collect::<Result<_, _>>()
                .map_err(corrupt)?;
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO publication_revisions (event_id, room_id, kind, object_id, sender, origin_server_ts, replaces, content) ",
            );
            query.push_values(
                chunk.iter().zip(&contents),
                |mut values, (revision, content)| {
                    values
                        .push_bind(revision.event_id.as_str())
                        .push_bind(revision.room_id.as_str())
                        .push_bind(revision.kind.as_str())
                        .push_bind(&revision.object_id)
                        .push_bind(revision.sender.as_str())
                        .push_bind(revision.origin_server_ts)
                        .push_bind(revision.replaces.as_ref().map(|id| id.as_str()))
                        .push_bind(content);
                },
            );
            query.push(" ON CONFLICT (event_id) DO NOTHING");
            query.build().execute(&mut **tx).await?;
        }
        for chunk in pending.comments.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO comments (event_id, room_id, thread_root, sender, body, origin_server_ts) ",
            );
            query.push_values(chunk, |mut values, comment| {
                values
                    .push_bind(comment.event_id.as_str())
                    .push_bind(comment.room_id.as_str())
                    .push_bind(comment.thread_root.as_str())
                    .push_bind(comment.sender.as_str())
                    .push_bind(&comment.body)
                    .push_bind(comment.origin_server_ts);
            });
            query.push(" ON CONFLICT (event_id) DO NOTHING");
            query.build().execute(&mut **tx).await?;
        }
        let memberships = last_by(pending.memberships, |(room, user, _)| {
            (room.clone(), user.clone())
        });
        for chunk in memberships.chunks(ROWS_PER_STATEMENT) {
            let mut query =
                QueryBuilder::<Db>::new("INSERT INTO room_members (room_id, user_id, membership) ");
            query.push_values(chunk, |mut values, (room, user, membership)| {
                values.push_bind(room).push_bind(user).push_bind(membership);
            });
            query.push(
                " ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership",
            );
            query.build().execute(&mut **tx).await?;
        }
        let now = now_ms();
        for chunk in pending.jobs.chunks(ROWS_PER_STATEMENT) {
            let payloads: Vec<(String, Option<&str>)> = chunk
                .iter()
                .map(|job| {
                    Ok((
                        serde_json::to_string(job)?,
                        job.room_id().map(RoomId::as_str),
                    ))
                })
                .collect::<Result<_, serde_json::Error>>()
                .map_err(corrupt)?;
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO jobs (payload, room_id, attempts, not_before) ",
            );
            query.push_values(&payloads, |mut values, (payload, room)| {
                values
                    .push_bind(payload)
                    .push_bind(*room)
                    .push_bind(0i64)
                    .push_bind(now);
            });
            query.build().execute(&mut **tx).await?;
        }
        Self::insert_skipped(tx, &pending.skipped).await
    }

    async fn flush_publications(
        tx: &mut sqlx::Transaction<'_, Db>,
        rows: Vec<PublicationRow>,
    ) -> Result<()> {
        let rows = last_by(rows, |row| {
            (row.room_id.clone(), row.kind(), row.object_id.clone())
        });
        // 18 values a row: 500 rows stay under SQLite's bound-parameter limit.
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let derived: Vec<[String; 4]> = chunk
                .iter()
                .map(|row| {
                    // Only PostgreSQL's tsvector reads the folded copies; SQLite's words
                    // are indexed beside the writer (`search_words`).
                    let (search_title, search_body) = if FOLDS_SEARCH {
                        (row.search_title(), row.search_body())
                    } else {
                        (String::new(), String::new())
                    };
                    [
                        row.fields.tags.join(","),
                        row.fields.pages.join(","),
                        search_title,
                        search_body,
                    ]
                })
                .collect();
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO publications (room_id, kind, object_id, event_id, author, title, slug, body, body_media, \
                 parent, tags, pages, category, position, status, updated_at, search_title, search_body) ",
            );
            query.push_values(
                chunk.iter().zip(&derived),
                |mut values, (row, [tags, pages, title, body])| {
                    values
                        .push_bind(row.room_id.as_str())
                        .push_bind(row.kind().as_str())
                        .push_bind(&row.object_id)
                        .push_bind(row.event_id.as_str())
                        .push_bind(row.author.as_str())
                        .push_bind(&row.title)
                        .push_bind(&row.slug)
                        // The body is stored only when it is not the event's own: once
                        // read from the media repository.
                        .push_bind(row.body_media.is_some().then_some(row.body.as_str()))
                        .push_bind(row.body_media.as_deref())
                        .push_bind(row.fields.parent.as_deref())
                        .push_bind(tags)
                        .push_bind(pages)
                        .push_bind(row.fields.category.as_str())
                        .push_bind(row.fields.position)
                        .push_bind(&row.status)
                        .push_bind(row.updated_at)
                        .push_bind(title)
                        .push_bind(body);
                },
            );
            query.push(
                " ON CONFLICT (room_id, kind, object_id) DO UPDATE SET event_id = excluded.event_id, \
                 author = excluded.author, title = excluded.title, slug = excluded.slug, body = excluded.body, \
                 body_media = excluded.body_media, parent = excluded.parent, tags = excluded.tags, \
                 pages = excluded.pages, category = excluded.category, position = excluded.position, \
                 status = excluded.status, updated_at = excluded.updated_at, \
                 search_title = excluded.search_title, search_body = excluded.search_body",
            );
            query.build().execute(&mut **tx).await?;
            // Links: the old ones of objects written again went with the update (a
            // trigger); the current ones are inserted.
            let links: Vec<(&str, String, &str)> = chunk
                .iter()
                .flat_map(|row| {
                    row.links.iter().map(move |target| {
                        (
                            row.room_id.as_str(),
                            link_source(row.kind(), &row.object_id),
                            target.as_str(),
                        )
                    })
                })
                .collect();
            for links in links.chunks(ROWS_PER_STATEMENT) {
                let mut query = QueryBuilder::<Db>::new(
                    "INSERT INTO publication_links (room_id, from_id, target_slug) ",
                );
                query.push_values(links, |mut values, (room, source, target)| {
                    values.push_bind(*room).push_bind(source).push_bind(*target);
                });
                query.push(" ON CONFLICT DO NOTHING");
                query.build().execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    async fn flush_state(tx: &mut sqlx::Transaction<'_, Db>, rows: Vec<StateRow>) -> Result<()> {
        let rows = last_by(rows, |row| {
            (
                row.room_id.clone(),
                row.event_type.clone(),
                row.state_key.clone(),
            )
        });
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut contents = Vec::with_capacity(chunk.len());
            for row in chunk {
                // A publication's content is kept once, with its revision (the same
                // event): the state row says which event is current.
                contents.push(
                    if tools::publication_kind_of_event(&row.event_type).is_some() {
                        "{}".to_owned()
                    } else {
                        serde_json::to_string(&row.content).map_err(corrupt)?
                    },
                );
            }
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO room_state (room_id, event_type, state_key, event_id, sender, content) ",
            );
            query.push_values(chunk.iter().zip(&contents), |mut values, (row, content)| {
                values
                    .push_bind(row.room_id.as_str())
                    .push_bind(row.event_type.as_str())
                    .push_bind(row.state_key.as_str())
                    .push_bind(row.event_id.as_str())
                    .push_bind(row.sender.as_str())
                    .push_bind(content.as_str());
            });
            query.push(
                " ON CONFLICT (room_id, event_type, state_key) DO UPDATE SET event_id = excluded.event_id, \
                 sender = excluded.sender, content = excluded.content",
            );
            query.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn flush_superseded(
        tx: &mut sqlx::Transaction<'_, Db>,
        ids: Vec<OwnedEventId>,
    ) -> Result<()> {
        let ids = distinct(ids.iter());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Db>::new("INSERT INTO superseded_events (event_id) ");
            query.push_values(chunk, |mut values, id| {
                values.push_bind(*id);
            });
            query.push(" ON CONFLICT (event_id) DO NOTHING");
            query.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn apply_one(tx: &mut sqlx::Transaction<'_, Db>, change: IndexChange) -> Result<usize> {
        match change {
            IndexChange::TrackRoom { room_id, room } => {
                sqlx::query(
                    "INSERT INTO rooms (room_id, creator, room_version) VALUES ($1, $2, $3) \
                     ON CONFLICT (room_id) DO UPDATE SET creator = COALESCE(excluded.creator, rooms.creator), \
                     room_version = COALESCE(excluded.room_version, rooms.room_version)",
                )
                .bind(room_id.as_str())
                .bind(room.creator.as_ref().map(|c| c.as_str()))
                .bind(room.room_version.as_ref().map(|v| v.as_str()))
                .execute(&mut **tx)
                .await?;
            }
            IndexChange::ForgetRoom {
                room_id,
                keep_history,
            } => {
                const HISTORY: [&str; 2] = [
                    "DELETE FROM publication_revisions WHERE room_id = $1",
                    "DELETE FROM comments WHERE room_id = $1",
                ];
                for sql in [
                    "DELETE FROM room_state WHERE room_id = $1",
                    "DELETE FROM communities WHERE space_id = $1",
                    "DELETE FROM community_rooms WHERE room_id = $1",
                    "DELETE FROM room_members WHERE room_id = $1",
                    "DELETE FROM publications WHERE room_id = $1",
                    "DELETE FROM publication_links WHERE room_id = $1",
                    "DELETE FROM rooms WHERE room_id = $1",
                ]
                .into_iter()
                .chain(HISTORY.into_iter().filter(|_| !keep_history))
                {
                    sqlx::query(sql)
                        .bind(room_id.as_str())
                        .execute(&mut **tx)
                        .await?;
                }
                for table in TOOLS.iter().flat_map(|tool| tool.tables) {
                    if !(keep_history && table.history) {
                        let sql = format!("DELETE FROM {} WHERE room_id = $1", table.name);
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(room_id.as_str())
                            .execute(&mut **tx)
                            .await?;
                    }
                }
            }
            IndexChange::Tool(write) => {
                Self::bind_tool(sqlx::query(write.statement), write.args)
                    .execute(&mut **tx)
                    .await?;
            }
            IndexChange::PutCommunity(row) => {
                let tools: Vec<&str> = row.content.tools.iter().map(|tool| tool.as_str()).collect();
                sqlx::query(
                    "INSERT INTO communities (space_id, name, description, tools, requested_by) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (space_id) DO UPDATE SET name = excluded.name, description = excluded.description, \
                     tools = excluded.tools, requested_by = excluded.requested_by",
                )
                .bind(row.space_id.as_str())
                .bind(&row.content.name)
                .bind(&row.content.description)
                .bind(tools.join(","))
                .bind(row.content.requested_by.as_str())
                .execute(&mut **tx)
                .await?;
            }
            IndexChange::RemoveCommunity(space_id) => {
                sqlx::query("DELETE FROM communities WHERE space_id = $1")
                    .bind(space_id.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
            IndexChange::PutCommunityRoom(row) => {
                sqlx::query(
                    "INSERT INTO community_rooms (room_id, space_id, purpose) VALUES ($1, $2, $3) \
                     ON CONFLICT (room_id) DO UPDATE SET space_id = excluded.space_id, purpose = excluded.purpose",
                )
                .bind(row.room_id.as_str())
                .bind(row.space_id.as_str())
                .bind(row.purpose.as_str())
                .execute(&mut **tx)
                .await?;
            }
            IndexChange::RemoveCommunityRoom(room_id) => {
                sqlx::query("DELETE FROM community_rooms WHERE room_id = $1")
                    .bind(room_id.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
            IndexChange::RemovePublication {
                room_id,
                kind,
                object_id,
            } => {
                sqlx::query(
                    "DELETE FROM publications WHERE room_id = $1 AND kind = $2 AND object_id = $3",
                )
                .bind(room_id.as_str())
                .bind(kind.as_str())
                .bind(&object_id)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM publication_links WHERE room_id = $1 AND from_id = $2")
                    .bind(room_id.as_str())
                    .bind(link_source(kind, &object_id))
                    .execute(&mut **tx)
                    .await?;
            }
            IndexChange::RemoveComment(event_id) => {
                sqlx::query("DELETE FROM comments WHERE event_id = $1")
                    .bind(event_id.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
            IndexChange::RedactRevision(event_id) => {
                sqlx::query("UPDATE publication_revisions SET content = '{}' WHERE event_id = $1")
                    .bind(event_id.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
            // Batched by `apply`; one arriving here alone goes through the same path.
            batched => return Self::flush_one(tx, batched).await,
        }
        Ok(0)
    }

    /// Binds a tool's parameters to its statement.
    fn bind_tool<'q>(
        mut query: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
        args: Vec<SqlValue>,
    ) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
        for arg in args {
            query = match arg {
                SqlValue::Null => query.bind(None::<String>),
                SqlValue::Integer(value) => query.bind(value),
                SqlValue::Text(text) => query.bind(text),
            };
        }
        query
    }

    async fn insert_skipped(
        tx: &mut sqlx::Transaction<'_, Db>,
        skipped: &[SkippedEvent],
    ) -> Result<()> {
        let now = now_ms();
        for chunk in skipped.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO skipped_events (event_id, room_id, cause, reason, skipped_at) ",
            );
            query.push_values(chunk, |mut values, skipped| {
                values
                    .push_bind(skipped.event_id.as_deref())
                    .push_bind(skipped.room_id.as_deref())
                    .push_bind(skipped.cause.as_str())
                    // The reason may quote the event: no NUL, and a bounded length.
                    .push_bind(bounded_reason(&skipped.reason))
                    .push_bind(now);
            });
            query.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert_job<'e, E: sqlx::Executor<'e, Database = Db>>(
        executor: E,
        job: &Job,
    ) -> Result<()> {
        let payload = serde_json::to_string(job).map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO jobs (payload, room_id, attempts, not_before) VALUES ($1, $2, 0, $3)",
        )
        .bind(payload)
        .bind(job.room_id().map(RoomId::as_str))
        .bind(now_ms())
        .execute(executor)
        .await?;
        Ok(())
    }
}

/// A write transaction on this backend's index.
pub struct Write {
    tx: sqlx::Transaction<'static, Db>,
    index: Store,
    /// The rooms whose indexed content the write changes: stamped anew at commit.
    rooms: HashSet<OwnedRoomId>,
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(WRITE_NAME).finish_non_exhaustive()
    }
}

impl IndexWrite for Write {
    async fn claim(&mut self, events: &[RoomEvent]) -> Result<Vec<RoomEvent>> {
        let ids = distinct(events.iter().map(|event| &event.event_id));
        let now = now_ms();
        let mut claimed = std::collections::HashSet::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut query =
                QueryBuilder::<Db>::new("INSERT INTO processed_events (event_id, processed_at) ");
            query.push_values(chunk, |mut values, id| {
                values.push_bind(*id).push_bind(now);
            });
            query.push(" ON CONFLICT (event_id) DO NOTHING RETURNING event_id");
            for row in query.build().fetch_all(&mut *self.tx).await? {
                claimed.insert(row.try_get::<String, _>(0)?);
            }
        }
        let claimed: Vec<RoomEvent> = events
            .iter()
            .filter(|event| claimed.remove(event.event_id.as_str()))
            .cloned()
            .collect();
        self.rooms
            .extend(claimed.iter().map(|event| event.room_id.clone()));
        Ok(claimed)
    }

    async fn context(&mut self, events: &[RoomEvent]) -> Result<ProjectionContext> {
        Store::load_context(&mut self.tx, events).await
    }

    async fn apply(&mut self, changes: Vec<IndexChange>) -> Result<usize> {
        self.rooms.extend(
            changes
                .iter()
                .filter_map(IndexChange::room_id)
                .map(ToOwned::to_owned),
        );
        Store::apply(&mut self.tx, changes).await
    }

    async fn commit(mut self) -> Result<()> {
        Store::stamp_rooms(&mut self.tx, self.rooms.iter()).await?;
        self.tx.commit().await?;
        self.index.after_write();
        Ok(())
    }
}

impl IndexStore for Store {
    type Write = Write;

    async fn begin_write(&self) -> Result<Write> {
        Ok(Write {
            tx: self.pool.begin().await?,
            index: self.clone(),
            rooms: HashSet::new(),
        })
    }

    async fn forget_room(&self, room_id: &OwnedRoomId) -> Result<()> {
        retry_conflicts(|| async {
            let mut tx = self.pool.begin().await?;
            Self::apply(
                &mut tx,
                vec![IndexChange::ForgetRoom {
                    room_id: room_id.clone(),
                    keep_history: false,
                }],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn tracked_rooms(&self) -> Result<Vec<OwnedRoomId>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT room_id FROM rooms ORDER BY room_id")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|id| OwnedRoomId::try_from(id).map_err(corrupt))
            .collect()
    }

    async fn clear(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM room_state",
            "DELETE FROM communities",
            "DELETE FROM community_rooms",
            "DELETE FROM rooms",
            "DELETE FROM superseded_events",
            "DELETE FROM processed_events",
            "DELETE FROM room_members",
            "DELETE FROM publications",
            "DELETE FROM publication_links",
            "DELETE FROM publication_revisions",
            "DELETE FROM comments",
            "DELETE FROM skipped_events",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        for table in TOOLS.iter().flat_map(|tool| tool.tables) {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {}", table.name)))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn digest(&self) -> Result<String> {
        let mut digest = IndexDigest::default();
        let mut tx = self.pool.begin().await?;
        digest.table("rooms");
        for row in sqlx::query("SELECT room_id FROM rooms ORDER BY room_id")
            .fetch_all(&mut *tx)
            .await?
        {
            digest.field(&row.try_get::<String, _>(0)?);
            digest.end_row();
        }
        digest.table("room_state");
        let rows = sqlx::query(
            "SELECT room_id, event_type, state_key, event_id, sender, content FROM room_state \
             ORDER BY room_id, event_type, state_key",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            for column in 0..5 {
                digest.field(&row.try_get::<String, _>(column)?);
            }
            digest.json_field(&row.try_get::<String, _>(5)?);
            digest.end_row();
        }
        digest.table("communities");
        let rows = sqlx::query("SELECT space_id, name, description, tools, requested_by FROM communities ORDER BY space_id")
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            for column in 0..5 {
                digest.field(&row.try_get::<String, _>(column)?);
            }
            digest.end_row();
        }
        digest.table("community_rooms");
        for row in
            sqlx::query("SELECT room_id, space_id, purpose FROM community_rooms ORDER BY room_id")
                .fetch_all(&mut *tx)
                .await?
        {
            for column in 0..3 {
                digest.field(&row.try_get::<String, _>(column)?);
            }
            digest.end_row();
        }
        let tool_tables = TOOLS
            .iter()
            .flat_map(|tool| tool.tables)
            .map(|table| (table.name, table.digest, None));
        for (table, sql, json_column) in DIGESTED_PUBLISHING_TABLES
            .iter()
            .copied()
            .chain(tool_tables)
        {
            digest.table(table);
            for row in sqlx::query(sql).fetch_all(&mut *tx).await? {
                for column in 0..row.len() {
                    let value: Option<String> = match row.try_get::<Option<String>, _>(column) {
                        Ok(value) => value,
                        Err(_) => Some(row.try_get::<i64, _>(column)?.to_string()),
                    };
                    let value = value.unwrap_or_else(|| "\u{0}null".to_owned());
                    if Some(column) == json_column {
                        digest.json_field(&value);
                    } else {
                        digest.field(&value);
                    }
                }
                digest.end_row();
            }
        }
        tx.commit().await?;
        Ok(digest.finish())
    }

    async fn enqueue(&self, job: &Job) -> Result<()> {
        Self::insert_job(&self.pool, job).await
    }

    async fn next_job(&self, now_ms: i64) -> Result<Option<QueuedJob>> {
        let row = sqlx::query("SELECT id, payload, attempts FROM jobs WHERE not_before <= $1 ORDER BY not_before, id LIMIT 1")
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get(0)?;
        let payload: String = row.try_get(1)?;
        let attempts: i64 = row.try_get(2)?;
        match serde_json::from_str(&payload) {
            Ok(job) => Ok(Some(QueuedJob { id, job, attempts })),
            Err(error) => {
                // A job this version cannot read is parked, not retried forever.
                self.retry_job(id, i64::MAX, &format!("unreadable job: {error}"))
                    .await?;
                Ok(None)
            }
        }
    }

    async fn job_queue(&self) -> Result<(u64, Option<i64>)> {
        let row = sqlx::query("SELECT COUNT(*), MIN(not_before) FROM jobs WHERE not_before < $1")
            .bind(i64::MAX)
            .fetch_one(&self.pool)
            .await?;
        let queued: i64 = row.try_get(0)?;
        Ok((u64::try_from(queued).unwrap_or(0), row.try_get(1)?))
    }

    async fn next_job_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(not_before) FROM jobs WHERE not_before < $1")
                .bind(i64::MAX)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn complete_job(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn retry_job(&self, id: i64, not_before_ms: i64, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET attempts = attempts + 1, last_error = $2, \
             not_before = CASE WHEN attempts + 1 >= $4 THEN $5 ELSE $3 END WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(not_before_ms)
        .bind(MAX_JOB_ATTEMPTS)
        .bind(i64::MAX)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn communities(&self) -> Result<Vec<CommunitySummary>> {
        let mut tx = self.pool.begin().await?;
        let mut rooms: HashMap<String, Vec<(OwnedRoomId, String)>> = HashMap::new();
        for row in
            sqlx::query("SELECT room_id, space_id, purpose FROM community_rooms ORDER BY room_id")
                .fetch_all(&mut *tx)
                .await?
        {
            let room_id = OwnedRoomId::try_from(row.try_get::<String, _>(0)?).map_err(corrupt)?;
            rooms
                .entry(row.try_get(1)?)
                .or_default()
                .push((room_id, row.try_get(2)?));
        }
        let rows = sqlx::query("SELECT space_id, name, description, tools, requested_by FROM communities ORDER BY name, space_id")
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|row| {
                let space_id: String = row.try_get(0)?;
                let tools: String = row.try_get(3)?;
                Ok(CommunitySummary {
                    space_id: OwnedRoomId::try_from(space_id.as_str()).map_err(corrupt)?,
                    name: row.try_get(1)?,
                    description: row.try_get(2)?,
                    tools: tools
                        .split(',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    requested_by: row.try_get(4)?,
                    rooms: rooms.remove(&space_id).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn membership(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> Result<Option<MembershipState>> {
        let membership: Option<String> = sqlx::query_scalar(
            "SELECT membership FROM room_members WHERE room_id = $1 AND user_id = $2",
        )
        .bind(room_id.as_str())
        .bind(user_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(membership.map(MembershipState::from))
    }

    async fn room_access(&self, room_id: &RoomId, user_id: &UserId) -> Result<RoomAccessState> {
        // One round trip: the stamp, the user's membership and the three state events.
        let rows = sqlx::query(
            "SELECT 'stamp', CAST(stamp AS TEXT), NULL FROM rooms WHERE room_id = $1 \
             UNION ALL SELECT 'membership', membership, NULL FROM room_members \
             WHERE room_id = $1 AND user_id = $2 \
             UNION ALL SELECT event_type, sender, content FROM room_state \
             WHERE room_id = $1 AND state_key = '' \
             AND event_type IN ('m.room.power_levels', 'm.room.create', 'm.room.encryption')",
        )
        .bind(room_id.as_str())
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut access = RoomAccessState::default();
        for row in rows {
            let what: String = row.try_get(0)?;
            let value: String = row.try_get(1)?;
            let content = || -> Result<JsonObject> { parse_content(&row.try_get::<String, _>(2)?) };
            match what.as_str() {
                "stamp" => access.stamp = Some(value.parse().map_err(corrupt)?),
                "membership" => access.membership = Some(MembershipState::from(value)),
                "m.room.power_levels" => access.power_levels = Some(content()?),
                "m.room.create" => access.create = Some((sender_of(value)?, content()?)),
                "m.room.encryption" => access.encrypted = true,
                _ => {}
            }
        }
        Ok(access)
    }

    async fn community_rooms(
        &self,
        space_id: &RoomId,
    ) -> Result<Option<Vec<(OwnedRoomId, String)>>> {
        let rows = sqlx::query(
            "SELECT r.room_id, r.purpose FROM communities c \
             LEFT JOIN community_rooms r ON r.space_id = c.space_id \
             WHERE c.space_id = $1 ORDER BY r.room_id",
        )
        .bind(space_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut rooms = Vec::with_capacity(rows.len());
        for row in rows {
            let (room, purpose): (Option<String>, Option<String>) =
                (row.try_get(0)?, row.try_get(1)?);
            if let (Some(room), Some(purpose)) = (room, purpose) {
                rooms.push((OwnedRoomId::try_from(room).map_err(corrupt)?, purpose));
            }
        }
        Ok(Some(rooms))
    }

    async fn state_content(
        &self,
        room_id: &RoomId,
        event_type: &StateEventType,
        state_key: &str,
    ) -> Result<Option<(OwnedUserId, JsonObject)>> {
        let row = sqlx::query("SELECT sender, content FROM room_state WHERE room_id = $1 AND event_type = $2 AND state_key = $3")
            .bind(room_id.as_str())
            .bind(event_type.to_string())
            .bind(state_key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok((
                sender_of(row.try_get(0)?)?,
                parse_content(&row.try_get::<String, _>(1)?)?,
            ))
        })
        .transpose()
    }

    async fn state_events(
        &self,
        room_id: &RoomId,
        event_type: &StateEventType,
    ) -> Result<Vec<(String, OwnedUserId, JsonObject)>> {
        let rows = sqlx::query("SELECT state_key, sender, content FROM room_state WHERE room_id = $1 AND event_type = $2 ORDER BY state_key")
            .bind(room_id.as_str())
            .bind(event_type.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get(0)?,
                    sender_of(row.try_get(1)?)?,
                    parse_content(&row.try_get::<String, _>(2)?)?,
                ))
            })
            .collect()
    }

    async fn room_state(&self, room_id: &RoomId) -> Result<Vec<StateRow>> {
        // A publication's content is kept with its revision (the state row holds `{}`).
        let rows = sqlx::query(
            "SELECT s.event_type, s.state_key, s.event_id, s.sender, COALESCE(r.content, s.content) \
             FROM room_state s LEFT JOIN publication_revisions r ON r.event_id = s.event_id \
             WHERE s.room_id = $1",
        )
            .bind(room_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StateRow {
                    room_id: room_id.to_owned(),
                    event_type: row.try_get(0)?,
                    state_key: row.try_get(1)?,
                    event_id: OwnedEventId::try_from(row.try_get::<String, _>(2)?)
                        .map_err(corrupt)?,
                    sender: OwnedUserId::try_from(row.try_get::<String, _>(3)?).map_err(corrupt)?,
                    content: parse_content(&row.try_get::<String, _>(4)?)?,
                })
            })
            .collect()
    }

    async fn put_comments(&self, comments: Vec<CommentRow>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let rooms: HashSet<OwnedRoomId> = comments.iter().map(|row| row.room_id.clone()).collect();
        Self::flush(
            &mut tx,
            Pending {
                comments,
                ..Default::default()
            },
        )
        .await?;
        Self::stamp_rooms(&mut tx, rooms.iter()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_revisions(&self, revisions: Vec<RevisionRow>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let rooms: HashSet<OwnedRoomId> = revisions.iter().map(|row| row.room_id.clone()).collect();
        Self::flush(
            &mut tx,
            Pending {
                revisions,
                ..Default::default()
            },
        )
        .await?;
        Self::stamp_rooms(&mut tx, rooms.iter()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_publications(&self, publications: Vec<PublicationRow>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let rooms: HashSet<OwnedRoomId> =
            publications.iter().map(|row| row.room_id.clone()).collect();
        Self::flush_publications(&mut tx, publications).await?;
        Self::stamp_rooms(&mut tx, rooms.iter()).await?;
        tx.commit().await?;
        // Their words changed: the search worker takes them now.
        self.after_write();
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        let query_text = query.text.clone();
        let text = match_query(&query.text);
        if text.is_empty() {
            return Ok(Vec::new());
        }
        self.before_search().await?;
        let limit = query.limit.clamp(1, 200);
        let run = |sql: &'static str| {
            sqlx::query(sql)
                .bind(text.clone())
                .bind(&query.user_id)
                .bind(query.kind.as_deref().unwrap_or(""))
                .bind(query.tag.as_deref().unwrap_or(""))
                .bind(query.author.as_deref().unwrap_or(""))
                .bind(query.community.as_deref().unwrap_or(""))
                .bind(limit)
        };
        let candidates: Option<&'static str> = CANDIDATES_SQL;
        let mut rows = match candidates {
            Some(sql) => {
                run(sql)
                    .bind(SEARCH_CANDIDATES)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => Vec::new(),
        };
        // Fewer results than asked: the filters may have dropped the best matches, or
        // there are few matches; either way the exact query answers (and is cheap then).
        if candidates.is_none() || (rows.len() as i64) < limit {
            rows = run(SEARCH_SQL).fetch_all(&self.pool).await?;
        }
        let mut hits = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let score: f64 = row.try_get(8)?;
            ids.push(row.try_get::<i64, _>(0)?);
            let kind: String = row.try_get(2)?;
            hits.push(SearchHit {
                room_id: OwnedRoomId::try_from(row.try_get::<String, _>(1)?).map_err(corrupt)?,
                kind: tools::publication_kind(&kind)
                    .ok_or_else(|| corrupt(format!("publication kind {kind}")))?,
                object_id: row.try_get(3)?,
                title: row.try_get(4)?,
                slug: row.try_get(5)?,
                author: OwnedUserId::try_from(row.try_get::<String, _>(6)?).map_err(corrupt)?,
                updated_at: row.try_get(7)?,
                snippet: String::new(),
                score: -score,
            });
        }
        if ids.is_empty() {
            return Ok(hits);
        }
        // Snippets only for the results returned.
        let mut query = QueryBuilder::<Db>::new(
            "SELECT p.id, p.kind, p.body, r.content FROM publications p \
             LEFT JOIN publication_revisions r ON r.event_id = p.event_id WHERE p.id IN (",
        );
        let mut list = query.separated(", ");
        ids.iter().for_each(|id| {
            list.push_bind(*id);
        });
        query.push(")");
        let mut bodies = HashMap::with_capacity(ids.len());
        for row in query.build().fetch_all(&self.pool).await? {
            let kind: String = row.try_get(1)?;
            let kind = tools::publication_kind(&kind)
                .ok_or_else(|| corrupt(format!("publication kind {kind}")))?;
            bodies.insert(
                row.try_get::<i64, _>(0)?,
                body_of(kind, row.try_get(2)?, row.try_get(3)?)?,
            );
        }
        let words: Vec<String> = postgres_match_query(&query_text)
            .split(' ')
            .map(str::to_owned)
            .collect();
        for (hit, id) in hits.iter_mut().zip(&ids) {
            if let Some(body) = bodies.get(id) {
                let plain = crate::publishing::render::plain_text(body);
                hit.snippet = crate::publishing::render::snippet(&plain, &words, 24);
            }
        }
        Ok(hits)
    }

    async fn apply_tool_writes(&self, room_id: &OwnedRoomId, writes: Vec<ToolWrite>) -> Result<()> {
        retry_conflicts(|| async {
            let mut tx = self.pool.begin().await?;
            for write in writes.iter().cloned() {
                Self::bind_tool(sqlx::query(write.statement), write.args)
                    .execute(&mut *tx)
                    .await?;
            }
            Self::stamp_rooms(&mut tx, std::iter::once(room_id)).await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        self.after_write();
        Ok(())
    }

    async fn tool_rows(&self, statement: &str, args: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>> {
        let query = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()));
        let rows = Self::bind_tool(query, args).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|column| {
                        if let Ok(text) = row.try_get::<Option<String>, _>(column) {
                            return Ok(text.map_or(SqlValue::Null, SqlValue::Text));
                        }
                        Ok(row
                            .try_get::<Option<i64>, _>(column)?
                            .map_or(SqlValue::Null, SqlValue::Integer))
                    })
                    .collect()
            })
            .collect()
    }

    async fn search_backlog(&self) -> Result<u64> {
        self.words_waiting().await
    }

    async fn prune_processed(&self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM processed_events WHERE processed_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM skipped_events WHERE skipped_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        // Parked jobs (failed for good) are kept for the operator, the newest ones only.
        sqlx::query(
            "DELETE FROM jobs WHERE not_before = $1 AND id NOT IN \
             (SELECT id FROM jobs WHERE not_before = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(i64::MAX)
        .bind(PARKED_JOBS_KEPT)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn pending_jobs(&self, job: &Job) -> Result<u64> {
        let payload = serde_json::to_string(job).map_err(corrupt)?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE payload = $1 AND not_before < $2")
                .bind(payload)
                .bind(i64::MAX)
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn record_skipped(&self, skipped: &[SkippedEvent]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::insert_skipped(&mut tx, skipped).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn skipped_events(&self, limit: i64) -> Result<Vec<SkippedEvent>> {
        let rows = sqlx::query(
            "SELECT event_id, room_id, cause, reason FROM skipped_events ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let cause: String = row.try_get(2)?;
                Ok(SkippedEvent {
                    event_id: row.try_get(0)?,
                    room_id: row.try_get(1)?,
                    cause: SkipCause::ALL
                        .into_iter()
                        .find(|known| known.as_str() == cause)
                        .ok_or_else(|| corrupt(format!("unknown skip cause {cause}")))?,
                    reason: row.try_get(3)?,
                })
            })
            .collect()
    }
}
