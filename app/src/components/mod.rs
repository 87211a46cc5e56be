pub mod alert;
pub mod layout;
pub mod method;
