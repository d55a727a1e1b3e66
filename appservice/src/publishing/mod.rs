//! Publishing: objects with revisions, markdown bodies, `[[links]]`, comments and search, for
//! every tool that declares a kind of them ([`kind::PublicationSpec`]: the wiki, the blog, the
//! FAQ, guides). Nothing here names a tool: each kind is read through its spec.

pub mod api;
pub mod diff;
pub mod index;
pub mod kind;
pub mod publication;
pub mod render;
