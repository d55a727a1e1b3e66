//! Publishing: wiki pages, blog posts, FAQ entries and guides.

pub mod api;
pub mod diff;
pub mod index;
pub mod publication;
pub mod render;
