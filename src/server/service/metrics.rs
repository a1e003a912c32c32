//! The metrics board: every figure of one query, computed by the database (the queries run
//! side by side on the pool, at most [`Boards`]'s share of it at once), and identical views
//! asked for at the same time computed once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use sqlx::AnyPool;
use tokio::sync::{OnceCell, Semaphore};

use crate::model::AppError;
use crate::model::board::{Board, BoardRequest, MeasureFigures, buckets};
use crate::model::incident::{IncidentStatus, Severity};
use crate::model::metrics::Measure;
use crate::server::repo::metrics::{self as repo, Breakdown};

/// One board being computed, shared by every request for the same view that arrives meanwhile.
type InFlight = Arc<OnceCell<Result<Board, AppError>>>;

/// The boards of one instance: how many of the pool's connections their queries may take at
/// once, and the views being computed right now.
///
/// A refresh storm (a wall screen and a room of managers on the same view) costs one computation
/// at a time per view: a request for a view already being computed waits for that computation
/// and shares its result, never a finished one (no figure is older than the request that shows
/// it by more than one computation). Whatever the views, the board's queries together hold at
/// most `slots` connections, so the incident pages keep the rest of the pool.
pub struct Boards {
    slots: Semaphore,
    in_flight: Mutex<HashMap<String, InFlight>>,
    computed: AtomicU64,
}

impl Boards {
    /// Boards whose queries take at most half of a pool of `pool_size` connections (at least one).
    pub fn for_pool(pool_size: u32) -> Self {
        Self::with_slots((pool_size as usize / 2).max(1))
    }

    /// Boards whose queries take at most `slots` connections at once.
    pub fn with_slots(slots: usize) -> Self {
        Self {
            slots: Semaphore::new(slots.max(1)),
            in_flight: Mutex::default(),
            computed: AtomicU64::new(0),
        }
    }

    /// The board for `request` as of `today`: computed, or shared with the identical request
    /// being computed.
    pub async fn view(
        &self,
        pool: &AnyPool,
        request: &BoardRequest,
        today: NaiveDate,
    ) -> Result<Board, AppError> {
        let key = format!("{request:?} {today}");
        let shared = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            in_flight.entry(key.clone()).or_default().clone()
        };
        // If the request computing it goes away (its client hung up), the next waiter computes.
        let result = shared
            .get_or_init(|| self.compute(pool, request, today))
            .await
            .clone();
        // The first to see it done retires it: later requests compute afresh.
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.get(&key).is_some_and(|f| Arc::ptr_eq(f, &shared)) {
            in_flight.remove(&key);
        }
        result
    }

    /// How many views are being computed now.
    pub fn computing(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// How many boards have been computed since start.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Runs one of the board's queries when a slot is free.
    async fn slot<T>(
        &self,
        query: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let _slot = self.slots.acquire().await.map_err(|_| AppError::Internal)?;
        query.await
    }

    async fn compute(
        &self,
        pool: &AnyPool,
        request: &BoardRequest,
        today: NaiveDate,
    ) -> Result<Board, AppError> {
        self.computed.fetch_add(1, Ordering::Relaxed);
        let filter = &request.filter;
        let today = today.format("%Y-%m-%d").to_string();
        let points = buckets(request.period, request.first, request.last);
        let (mtta, mttm, mttr, (recurrences, incidents), drills, actions) = tokio::try_join!(
            self.slot(repo::duration_stats(pool, Measure::Mtta, filter)),
            self.slot(repo::duration_stats(pool, Measure::Mttm, filter)),
            self.slot(repo::duration_stats(pool, Measure::Mttr, filter)),
            self.slot(repo::recurrence(pool, filter)),
            self.slot(repo::drill_stats(pool, filter)),
            self.slot(repo::action_figures(pool, filter, &today)),
        )?;
        let (severities, statuses, by_service, trend) = tokio::try_join!(
            self.slot(repo::count_by(pool, Breakdown::Severity, filter)),
            self.slot(repo::count_by(pool, Breakdown::Status, filter)),
            self.slot(repo::count_by(pool, Breakdown::Service, filter)),
            self.slot(repo::trend(pool, filter, &points)),
        )?;
        // Every severity and status is shown, in their own order, zeros included.
        let in_order = |counts: &[(String, u64)], codes: &mut dyn Iterator<Item = &'static str>| {
            codes
                .map(|code| {
                    let n = counts
                        .iter()
                        .find(|(c, _)| c == code)
                        .map_or(0, |(_, n)| *n);
                    (code.to_owned(), n)
                })
                .collect::<Vec<_>>()
        };
        let mut services: Vec<String> = by_service.iter().map(|(s, _)| s.clone()).collect();
        if let Some(chosen) = filter.service.as_ref().filter(|c| !services.contains(c)) {
            services.push(chosen.clone());
        }
        services.sort();
        Ok(Board {
            first: request.first.format("%Y-%m-%d").to_string(),
            last: request.last.format("%Y-%m-%d").to_string(),
            incidents,
            measures: [
                (Measure::Mtta, mtta),
                (Measure::Mttm, mttm),
                (Measure::Mttr, mttr),
            ]
            .into_iter()
            .map(|(measure, stats)| MeasureFigures { measure, stats })
            .collect(),
            recurrences,
            drills,
            actions,
            by_severity: in_order(&severities, &mut Severity::ALL.iter().map(|s| s.as_str())),
            by_status: in_order(
                &statuses,
                &mut IncidentStatus::ALL.iter().map(|s| s.as_str()),
            ),
            by_service,
            period: request.period,
            trend,
            services,
        })
    }
}

/// The board for `request`, as of `today` (UTC: action items are overdue after their due day),
/// computed alone (tests and benchmarks; the server goes through [`Boards::view`]).
pub async fn board(
    pool: &AnyPool,
    request: &BoardRequest,
    today: NaiveDate,
) -> Result<Board, AppError> {
    Boards::with_slots(16).view(pool, request, today).await
}
