//! Risk pages: the risk board of firing alerts and failed inspections, and one event's page.

pub mod inspections_page;
pub mod risk_page;
pub mod risks_page;
pub mod silences_page;
