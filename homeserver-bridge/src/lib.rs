//! Everything Parvis says to, and hears from, a Matrix homeserver.
//!
//! * [`transaction`] — sans-I/O parsing of appservice transactions (`PUT /_matrix/app/v1/transactions/{txnId}`),
//!   accepting both stable and MSC-prefixed field names, and the constant-time `hs_token` check.
//! * [`lenient`] — sans-I/O cleaning of the device fields of transactions and `/sync` responses, so
//!   one invalid user ID there is dropped (and reported) instead of failing the whole body.
//! * [`appservice_api`] — the axum driver of the Application Service API: transactions, user and room-alias
//!   queries, ping. It hands each parsed transaction to a [`TransactionSink`] and acknowledges only once the
//!   sink reports the transaction durable.
//! * [`client`] — the client-server API client acting as the appservice, with identity assertion and
//!   `429` handling.
//! * [`intent`] — one [`Intent`] per virtual user, with idempotent `ensure_registered` / `ensure_joined`.
//!
//! Nothing in this crate knows about communities or the index: it speaks Matrix, in ruma types.

pub mod appservice_api;
pub mod client;
pub mod error;
pub mod intent;
pub mod lenient;
pub mod openid;
pub mod transaction;

pub use appservice_api::{AppserviceApi, TransactionSink, appservice_router};
pub use client::{ClientError, HomeserverClient};
pub use error::MatrixErrorBody;
pub use intent::{Intent, Intents};
pub use openid::{OpenIdError, OpenIdToken, OpenIdVerifier, VerifiedOpenId};
pub use transaction::{ParsedTransaction, Transaction, TransactionRejection};
