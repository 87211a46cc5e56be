//! Layers applied to every route (`page_settings`: to the pages');
//! `router::build` lists their order.

pub mod admin_only;
pub mod body_limit;
pub mod client_addr;
pub mod compress;
pub mod content_type;
pub mod csrf;
pub mod dev_only;
pub mod error_status;
pub mod headers;
pub mod locale;
pub mod metrics;
pub mod page_settings;
