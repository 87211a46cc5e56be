pub mod alert;
pub mod layout;
