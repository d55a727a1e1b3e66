//! bot (being written)
