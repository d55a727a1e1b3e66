//! Parvis: collaboration communities stored as Matrix events, served by an application service.
//!
//! The crate is layered (see `ARCHITECTURE.md`):
//! * pure domain modules — [`events`] (custom event types), [`command`] (bot commands),
//!   [`community`] (rooms, roles, power levels), [`projection`] (events → index changes);
//! * the index storage — [`store`] (SQLite or PostgreSQL behind one trait);
//! * drivers — [`indexer`] (the planner over a write of the store), [`ingest`] (transactions in), [`bot`] (queued work: commands, joins, reconciles),
//!   [`rebuild`] (the index from the homeserver), [`api`] (REST), [`server`] (wiring), [`cli`].

pub mod api;
pub mod bot;
pub mod cli;
pub mod command;
pub mod community;
pub mod doctor;
pub mod encrypted_state;
pub mod events;
#[cfg(test)]
pub(crate) mod fake_homeserver;
pub mod indexer;
pub mod ingest;
pub mod limits;
pub mod metrics;
pub mod permission;
pub mod projection;
pub mod publishing;
pub mod rebuild;
pub mod role;
pub mod server;
pub mod store;
pub mod tools;
pub mod web;
