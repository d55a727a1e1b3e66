//! The Gantt view's arithmetic, sans-I/O: dated cards and their finish-to-start dependencies
//! in, each card's earliest and latest dates, its slack and the critical path out (the critical
//! path method: a topological order, a forward pass, a backward pass).
//!
//! A card's planned start is a "start no earlier than": a dependency may push it later (its
//! earliest start is then after its planned one, which the view shows as a conflict), never
//! earlier. The project ends with the latest earliest finish. Dates are whole days; a card
//! lasts from its start to its due date, both included.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::date::CalendarDate;

/// A card with dates, as the Gantt view reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedCard {
    /// Its ID.
    pub id: String,
    /// Its planned first day.
    pub start: CalendarDate,
    /// Its planned last day.
    pub due: CalendarDate,
    /// The cards that must be done before it starts (others than dated cards are left out).
    pub depends_on: Vec<String>,
}

/// A card as scheduled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledCard {
    /// Its ID.
    pub id: String,
    /// The first day its dependencies and its planned start allow.
    pub earliest_start: CalendarDate,
    /// Its last day if it starts then.
    pub earliest_finish: CalendarDate,
    /// The last day it may start without delaying the project's end.
    pub latest_start: CalendarDate,
    /// The last day it may finish without delaying the project's end.
    pub latest_finish: CalendarDate,
    /// Days it may slip without delaying the end (0 on the critical path).
    pub slack: i64,
    /// Days its dependencies push it past its planned start (0 when the plan holds).
    pub pushed_by: i64,
}

/// The schedule of a board's dated cards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Every dated card, in a dependency order (a card after those it depends on), ties by
    /// earliest start then ID.
    pub cards: Vec<ScheduledCard>,
    /// The cards without slack, in that order.
    pub critical_path: Vec<String>,
    /// The project's last day.
    pub end: Option<CalendarDate>,
}

/// Why no schedule can be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GanttError {
    /// Cards depend on each other in a circle.
    #[error("these cards depend on each other in a circle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    /// A card is due before it starts.
    #[error("the card {card} is due ({due}) before it starts ({start})")]
    DueBeforeStart {
        /// The card.
        card: String,
        /// Its start.
        start: CalendarDate,
        /// Its due date.
        due: CalendarDate,
    },
}

/// Schedules dated cards. Dependencies on cards not in `cards` (undated, archived, of another
/// board) are left out; a dependency of a card on itself is a circle.
pub fn schedule(cards: &[PlannedCard]) -> Result<Schedule, GanttError> {
    for card in cards {
        if card.due < card.start {
            return Err(GanttError::DueBeforeStart {
                card: card.id.clone(),
                start: card.start,
                due: card.due,
            });
        }
    }
    let index: HashMap<&str, usize> = cards
        .iter()
        .enumerate()
        .map(|(at, card)| (card.id.as_str(), at))
        .collect();
    // Each card's predecessors, once each, among the cards scheduled.
    let predecessors: Vec<Vec<usize>> = cards
        .iter()
        .map(|card| {
            let mut found: Vec<usize> = card
                .depends_on
                .iter()
                .filter_map(|id| index.get(id.as_str()).copied())
                .collect();
            found.sort_unstable();
            found.dedup();
            found
        })
        .collect();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); cards.len()];
    for (card, before) in predecessors.iter().enumerate() {
        for &predecessor in before {
            successors[predecessor].push(card);
        }
    }
    let order = topological_order(cards, &predecessors, &successors)?;

    let duration = |at: usize| cards[at].due.days() - cards[at].start.days() + 1;
    let mut earliest_start = vec![0_i64; cards.len()];
    let mut earliest_finish = vec![0_i64; cards.len()];
    for &at in &order {
        let after_dependencies = predecessors[at]
            .iter()
            .map(|&before| earliest_finish[before] + 1)
            .max();
        earliest_start[at] = cards[at]
            .start
            .days()
            .max(after_dependencies.unwrap_or(i64::MIN));
        earliest_finish[at] = earliest_start[at] + duration(at) - 1;
    }
    let end = order.iter().map(|&at| earliest_finish[at]).max();
    let mut latest_finish = vec![0_i64; cards.len()];
    let mut latest_start = vec![0_i64; cards.len()];
    for &at in order.iter().rev() {
        latest_finish[at] = successors[at]
            .iter()
            .map(|&after| latest_start[after] - 1)
            .chain(end)
            .min()
            .unwrap_or(earliest_finish[at]);
        latest_start[at] = latest_finish[at] - duration(at) + 1;
    }
    let scheduled: Vec<ScheduledCard> = order
        .iter()
        .map(|&at| ScheduledCard {
            id: cards[at].id.clone(),
            earliest_start: CalendarDate::from_days(earliest_start[at]),
            earliest_finish: CalendarDate::from_days(earliest_finish[at]),
            latest_start: CalendarDate::from_days(latest_start[at]),
            latest_finish: CalendarDate::from_days(latest_finish[at]),
            slack: latest_start[at] - earliest_start[at],
            pushed_by: earliest_start[at] - cards[at].start.days(),
        })
        .collect();
    Ok(Schedule {
        critical_path: scheduled
            .iter()
            .filter(|card| card.slack == 0)
            .map(|card| card.id.clone())
            .collect(),
        cards: scheduled,
        end: end.map(CalendarDate::from_days),
    })
}

/// Kahn's order, the ready cards taken by planned start then ID so the order is the same
/// everywhere; a circle is named by walking back from a card left over.
fn topological_order(
    cards: &[PlannedCard],
    predecessors: &[Vec<usize>],
    successors: &[Vec<usize>],
) -> Result<Vec<usize>, GanttError> {
    let mut waiting: Vec<usize> = predecessors.iter().map(Vec::len).collect();
    let key = |at: usize| (cards[at].start, cards[at].id.clone());
    let mut ready: BTreeMap<(CalendarDate, String), usize> = (0..cards.len())
        .filter(|&at| waiting[at] == 0)
        .map(|at| (key(at), at))
        .collect();
    let mut order = Vec::with_capacity(cards.len());
    while let Some((_, at)) = ready.pop_first() {
        order.push(at);
        for &after in &successors[at] {
            waiting[after] -= 1;
            if waiting[after] == 0 {
                ready.insert(key(after), after);
            }
        }
    }
    if order.len() == cards.len() {
        return Ok(order);
    }
    // Every card left waits on another card left: walking back from one must come round.
    let Some(start) = (0..cards.len()).find(|&at| waiting[at] > 0) else {
        return Ok(order);
    };
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut path: VecDeque<usize> = VecDeque::new();
    let mut at = start;
    while !seen.contains_key(&at) {
        seen.insert(at, path.len());
        path.push_back(at);
        let Some(&before) = predecessors[at].iter().find(|&&before| waiting[before] > 0) else {
            break;
        };
        at = before;
    }
    let from = seen.get(&at).copied().unwrap_or(0);
    // Walking back went against the dependencies: read the circle forwards.
    let mut circle: Vec<String> = path
        .range(from..)
        .rev()
        .map(|&at| cards[at].id.clone())
        .collect();
    if let Some(first) = circle.first().cloned() {
        circle.push(first);
    }
    Err(GanttError::Cycle(circle))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(text: &str) -> CalendarDate {
        CalendarDate::parse(text).unwrap()
    }

    fn card(id: &str, start: &str, due: &str, depends_on: &[&str]) -> PlannedCard {
        PlannedCard {
            id: id.to_owned(),
            start: day(start),
            due: day(due),
            depends_on: depends_on.iter().map(|id| (*id).to_owned()).collect(),
        }
    }

    /// Twelve cards of a small project, worked out by hand:
    ///
    /// ```text
    /// cadrage 1–3 ─┬─ marché 4–10 ─── commande 11–12 ─┬─ livraison 13–17 ─┬─ recette 18–20 ── bilan 21
    ///              ├─ budget 4–5 ──────────────────────┘                  │
    ///              ├─ équipe 4–6 ─── formation 7–9 ──────────────────────┤
    ///              └─ locaux 4–4                                          │
    /// site 1–2 ─── contenus 3–12 ───────────────────────── relecture 13–14 ┘
    /// ```
    /// The longest chain is cadrage, marché, commande, livraison, recette, bilan (21 days), so
    /// those have no slack. budget may slip until commande's start: 10 − 5 = 5 days.
    /// formation must be done before recette (day 18): 17 − 9 = 8 days. équipe too: 8.
    /// locaux leads nowhere: until the end, 21 − 4 = 17. relecture: 17 − 14 = 3, and contenus
    /// and site before it have 3 as well.
    #[test]
    fn a_project_of_twelve_cards_has_the_critical_path_worked_out_by_hand() {
        let cards = vec![
            card("cadrage", "2027-03-01", "2027-03-03", &[]),
            card("marche", "2027-03-04", "2027-03-10", &["cadrage"]),
            card("budget", "2027-03-04", "2027-03-05", &["cadrage"]),
            card("equipe", "2027-03-04", "2027-03-06", &["cadrage"]),
            card("locaux", "2027-03-04", "2027-03-04", &["cadrage"]),
            card(
                "commande",
                "2027-03-11",
                "2027-03-12",
                &["marche", "budget"],
            ),
            card("formation", "2027-03-07", "2027-03-09", &["equipe"]),
            card("livraison", "2027-03-13", "2027-03-17", &["commande"]),
            card("site", "2027-03-01", "2027-03-02", &[]),
            card("contenus", "2027-03-03", "2027-03-12", &["site"]),
            card("relecture", "2027-03-13", "2027-03-14", &["contenus"]),
            card(
                "recette",
                "2027-03-18",
                "2027-03-20",
                &["livraison", "formation", "relecture"],
            ),
            card(
                "bilan",
                "2027-03-21",
                "2027-03-21",
                &["recette", "unknown-card"],
            ),
        ];
        let schedule = schedule(&cards).unwrap();
        assert_eq!(
            schedule.critical_path,
            [
                "cadrage",
                "marche",
                "commande",
                "livraison",
                "recette",
                "bilan"
            ]
        );
        assert_eq!(schedule.end, Some(day("2027-03-21")));
        let slack: HashMap<&str, i64> = schedule
            .cards
            .iter()
            .map(|card| (card.id.as_str(), card.slack))
            .collect();
        for (id, expected) in [
            ("budget", 5),
            ("equipe", 8),
            ("formation", 8),
            ("locaux", 17),
            ("site", 3),
            ("contenus", 3),
            ("relecture", 3),
        ] {
            assert_eq!(slack[id], expected, "slack of {id}");
        }
        assert!(schedule.cards.iter().all(|card| card.pushed_by == 0));
        let budget = schedule
            .cards
            .iter()
            .find(|card| card.id == "budget")
            .unwrap();
        assert_eq!(
            (budget.latest_start, budget.latest_finish),
            (day("2027-03-09"), day("2027-03-10"))
        );
        // A card comes after every card it depends on.
        let position: HashMap<&str, usize> = schedule
            .cards
            .iter()
            .enumerate()
            .map(|(at, card)| (card.id.as_str(), at))
            .collect();
        for card in &cards {
            for before in card
                .depends_on
                .iter()
                .filter(|id| position.contains_key(id.as_str()))
            {
                assert!(position[before.as_str()] < position[card.id.as_str()]);
            }
        }
    }

    #[test]
    fn a_dependency_that_ends_late_pushes_its_card() {
        let schedule = schedule(&[
            card("a", "2027-01-04", "2027-01-08", &[]),
            card("b", "2027-01-06", "2027-01-07", &["a"]),
        ])
        .unwrap();
        let b = &schedule.cards[1];
        assert_eq!((b.earliest_start, b.pushed_by), (day("2027-01-09"), 3));
        assert_eq!(schedule.end, Some(day("2027-01-10")));
        assert_eq!(schedule.critical_path, ["a", "b"]);
    }

    #[test]
    fn a_circle_is_refused_with_its_cards_named() {
        let error = schedule(&[
            card("a", "2027-01-04", "2027-01-05", &[]),
            card("b", "2027-01-06", "2027-01-07", &["a", "d"]),
            card("c", "2027-01-08", "2027-01-09", &["b"]),
            card("d", "2027-01-10", "2027-01-11", &["c"]),
        ])
        .unwrap_err();
        let GanttError::Cycle(circle) = &error else {
            panic!("{error}")
        };
        assert_eq!(circle.len(), 4, "{circle:?}");
        assert_eq!(circle.first(), circle.last());
        let mut named: Vec<&str> = circle[..3].iter().map(String::as_str).collect();
        named.sort_unstable();
        assert_eq!(named, ["b", "c", "d"]);
        assert!(error.to_string().contains(" → "));
        // A card depending on itself.
        assert_eq!(
            schedule(&[card("a", "2027-01-04", "2027-01-05", &["a"])]).unwrap_err(),
            GanttError::Cycle(vec!["a".to_owned(), "a".to_owned()])
        );
    }

    #[test]
    fn a_card_due_before_it_starts_is_named() {
        assert_eq!(
            schedule(&[card("a", "2027-01-05", "2027-01-04", &[])])
                .unwrap_err()
                .to_string(),
            "the card a is due (2027-01-04) before it starts (2027-01-05)"
        );
        assert_eq!(schedule(&[]).unwrap().end, None);
    }
}
