//! Types shared by the WASM client and the server: ids, enums, DTOs and the pure rules over them.

/// An enum stored by a stable code and shown by a label: `as_str`, `label`, `ALL`, `FromStr`.
macro_rules! code_enum {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal, $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $ty {
            $($(#[$vmeta])* $variant),+
        }

        impl $ty {
            /// Every value, in display order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stable stored code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $code),+
                }
            }

            /// The displayed name.
            pub fn label(self) -> &'static str {
                match self {
                    $($ty::$variant => $label),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s.trim())
                    .ok_or_else(|| format!("{:?} is not a known {}", s, stringify!($ty).to_lowercase()))
            }
        }
    };
}

pub mod action_item;
pub mod alert;
pub mod alert_rule;
pub mod api_token;
pub mod board;
pub mod catalog;
pub mod error;
pub mod form_feedback;
pub mod incident;
pub mod incident_input;
pub mod incident_views;
pub mod inspection;
pub mod matcher;
pub mod metrics;
pub mod notification;
pub mod plan;
pub mod plan_edit;
pub mod postmortem;
pub mod postmortem_form;
pub mod reminder;
pub mod review;
pub mod rollup;
pub mod run;
pub mod schedule;
pub mod score;
pub mod timeline;
pub mod user;

pub use error::{AppError, FieldError};
pub use user::{NewUser, Password, Role, UserId, UserView, Username};
