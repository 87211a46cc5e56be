pub mod alert;
pub mod layout;
pub mod method;
pub mod password;
pub mod phone;
