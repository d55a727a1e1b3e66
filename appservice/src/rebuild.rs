//! rebuild (being written)
