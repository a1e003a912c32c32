//! Types shared by the WASM client and the server: ids, enums, DTOs and the pure rules over them.

pub mod action_item;
pub mod catalog;
pub mod error;
pub mod incident;
pub mod incident_input;
pub mod incident_views;
pub mod plan;
pub mod postmortem;
pub mod postmortem_form;
pub mod reminder;
pub mod timeline;
pub mod user;

pub use error::{AppError, FieldError};
pub use user::{NewUser, Password, Role, UserId, UserView, Username};
